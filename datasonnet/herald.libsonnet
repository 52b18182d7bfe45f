// Shared helpers for Herald's mappings. Imported as: local herald = import 'herald.libsonnet';
// Read from herald.mappings-dir beside the *.ds mappings when Herald starts (io.herald.ingest.MappingLibraries):
// after editing it, restart Herald.
local zeroDecimal = ['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
// ISO 4217's exponents, as Stripe counts them. IQD and LYD have three decimals in ISO 4217 (Stripe does not charge in them, so
// only the CRM's decimal amounts name them): without them here 12.345 LYD was written 12.35 LYD.
local threeDecimal = ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'];

{
  // Value at a path of field names, or null when any step is missing or null.
  // (A fold, not recursion: this DataSonnet version re-evaluates a function argument each time
  // it is used, so a recursive walk costs 4^depth; the fold hands each step an evaluated value.)
  get(o, path)::
    std.foldl(function(v, name) if std.isObject(v) && std.objectHas(v, name) then v[name] else null, path, o),

  // Value at a path, or a mapping error that says what is missing and where:
  // "billing event evt_1 has no customer: data.object.customer is null".
  // The value is an object field because a field is evaluated once, a local on every use.
  required(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: if self.v == null then error (what + ': ' + $.whyMissing(o, path))
                else if std.isString(self.v) && std.length(std.stripChars(self.v, ' ')) == 0 then error (what + ': ' + std.join('.', path) + ' is empty')
                else self.v,
    }.checked,

  // Why a path has no value, in words: "data.object.customer is null", or where the path broke because a step
  // is not an object: "detail is a list, expected an object" ("the event is a list, ..." for the whole input).
  // Only called for an error, so its cost does not matter.
  whyMissing(o, path)::
    local broken = std.foldl(function(acc, name)
                               if acc.why != null then acc
                               else if acc.v == null then { v: null, seen: acc.seen + [name], why: null }
                               else if std.isObject(acc.v) then { v: if std.objectHas(acc.v, name) then acc.v[name] else null,
                                                                  seen: acc.seen + [name], why: null }
                               else { v: null, seen: acc.seen,
                                      why: (if std.length(acc.seen) == 0 then 'the event' else std.join('.', acc.seen))
                                           + ' is ' + $.describe(acc.v) + ', expected an object' },
                             path, { v: o, seen: [], why: null });
    if broken.why != null then broken.why else std.join('.', path) + ' is null',

  // DataSonnet reads a whole number above 2^53 (a 64-bit id: 12345678901234567890) as the text "__LARGE_INT__<digits>".
  isLargeInt(v):: std.isString(v) && std.startsWith(v, '__LARGE_INT__'),
  largeIntDigits(v):: std.substr(v, 13, std.length(v) - 13),

  // What a value is, in words, for a reason: "the number 12", "a list", "an object", "the text 'abc'".
  describe(v)::
    if v == null then 'empty'
    else if $.isLargeInt(v) then 'the number ' + $.largeIntDigits(v)
    else if std.isString(v) then "the text '" + (if std.length(v) > 40 then v[0:40] + '…' else v) + "'"
    else if std.isBoolean(v) then 'the value ' + std.toString(v)
    else if std.isNumber(v) then 'the number ' + std.toString(v)
    else if std.isArray(v) then 'a list'
    else if std.isObject(v) then 'an object'
    else 'a function',

  // Required text: a mapping error naming the field and what was expected when it is missing or not text.
  // "billing event evt_1 has no type: type is the number 7, expected text".
  text(o, path, what)::
    {
      v:: $.required(o, path, what),
      checked:: if std.isString(self.v) && !$.isLargeInt(self.v) then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', expected text'),
    }.checked,

  // Required text or whole number, e.g. an id some systems send as a number (Zendesk ticket ids).
  id(o, path, what)::
    {
      v:: $.required(o, path, what),
      checked:: if $.isLargeInt(self.v) then $.largeIntDigits(self.v)
                else if std.isString(self.v) || (std.isNumber(self.v) && std.floor(self.v) == self.v && std.abs(self.v) < 1e15) then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', expected an id (text or a whole number)'),
    }.checked,

  // Optional id as text (Zendesk user ids come as text or as whole numbers): null when missing, a mapping error when
  // present but neither: "support event 01J… has an unusable requester: detail.requester_id is a list, expected an id".
  optionalId(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: if self.v == null then null
                else if $.isLargeInt(self.v) then $.largeIntDigits(self.v)
                else if std.isString(self.v) then (if std.length(std.stripChars(self.v, ' ')) == 0 then null else self.v)
                else if std.isNumber(self.v) && std.floor(self.v) == self.v && std.abs(self.v) < 1e15 then std.toString(self.v)
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', expected an id (text or a whole number)'),
    }.checked,

  // The source system's own id for the customer, resolved through Herald's identity links (customer_link):
  // { system: 'zendesk', externalId: '9000000123456' }; null when the event carries none.
  customerLink(system, externalId):: if externalId == null then null else { system: system, externalId: externalId },

  // Optional value of one kind: null when missing, a mapping error when present but of another kind.
  optionalText(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: if self.v == null || (std.isString(self.v) && !$.isLargeInt(self.v)) then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', expected text'),
    }.checked,

  // Optional text a message prints (a name, a method, a reason): null when missing; a number is written as text (a product
  // named 1984); anything else (an object such as {"en": "Printer"}, a list, true) is a mapping error naming the field: a
  // message would show it as {en=Printer}.
  optionalLabel(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: $.label(self.v, error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', expected text')),
    }.checked,

  // Optional text a notice only adds to (an appointment's owner, its location): as optionalLabel, but anything that is not
  // text or a number is left out (null) rather than failing the event.
  labelOrNull(o, path):: $.label($.get(o, path), null),

  // A link a message offers the customer ("Join the call"): an https address of one piece, else null (left out). A
  // javascript: or data: address, a plain http one, or text with spaces, control or non-ASCII characters (a link is sent
  // percent-encoded; an SMS writes typographic characters plainly, SmsText) never becomes a button. Nor does one with a
  // user part before its host (https://meet.acme.com@evil.example/join goes to evil.example while it reads as acme's).
  webLinkOrNull(o, path)::
    {
      v:: $.get(o, path),
      rest:: std.substr(self.v, 8, std.length(self.v) - 8),
      // The host part ends at the first /, ? or #. (Built-in searches, not a loop over the characters: this DataSonnet version
      // runs a comprehension over a link's 150 characters slowly, and a Stripe invoice carries two links.)
      hostEnds:: [found[0] for found in [std.findSubstr('/', self.rest), std.findSubstr('?', self.rest), std.findSubstr('#', self.rest)]
                  if std.length(found) > 0],
      authority:: if std.length(self.hostEnds) == 0 then self.rest
                  else std.substr(self.rest, 0, std.foldl(std.min, self.hostEnds, std.length(self.rest))),
      // ASCII only (as many UTF-8 bytes as characters), no control character, " or \ (JSON writes them escaped), no space,
      // DEL, < or >.
      plain:: std.length(std.encodeUTF8(self.v)) == std.length(self.v) && std.escapeStringJson(self.v) == '"' + self.v + '"'
              && std.length([c for c in [' ', '\u007f', '<', '>'] if std.length(std.findSubstr(c, self.v)) > 0]) == 0,
      ok:: std.isString(self.v) && std.length(self.v) > 8 && std.length(self.v) <= 2000
           && std.asciiLower(std.substr(self.v, 0, 8)) == 'https://' && self.plain
           && std.length(self.authority) > 0 && std.length(std.findSubstr('@', self.authority)) == 0,
      link:: if self.ok then self.v else null,
    }.link,

  // A value as text a message prints: text as it is, a number (also one beyond 2^53) as its digits, null as null, else otherwise.
  label(v, otherwise):: if v == null then null
                        else if $.isLargeInt(v) then $.largeIntDigits(v)
                        else if std.isString(v) then v
                        else if std.isNumber(v) then std.toString(v)
                        else otherwise,

  // A number in a range real amounts and counts fit in (not Infinity, not 1e300).
  isAmount(v):: std.isNumber(v) && v > -1e15 && v < 1e15,

  // Required number: "billing event evt_1 has no amount_due: data.object.amount_due is the text '12', expected a number".
  number(o, path, what)::
    {
      v:: $.required(o, path, what),
      checked:: if $.isAmount(self.v) then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v)
                            + (if std.isNumber(self.v) || $.isLargeInt(self.v) then ', larger than any real amount'
                               else ', expected a number' + $.quotedNumber(self.v))),
    }.checked,

  // For a number sent as text ("129.90"): what to do, in words; '' for any other value.
  quotedNumber(v)::
    local chars = if std.isString(v) && !$.isLargeInt(v) then std.stringChars(v) else [];
    if std.length(chars) > 0 && std.length(chars) <= 40 && std.length([c for c in chars if !std.member('-0123456789.', c)]) == 0
       && std.length([c for c in chars if std.member('0123456789', c)]) > 0
    then ', written without quotes (' + v + ', not "' + v + '"): correct the event at its source, then re-drive it'
    else '',

  optionalNumber(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: if self.v == null || $.isAmount(self.v) then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v)
                            + (if std.isNumber(self.v) || $.isLargeInt(self.v) then ', larger than any real amount'
                               else ', expected a number' + $.quotedNumber(self.v))),
    }.checked,

  // Required amount in a currency's smallest unit (Stripe's cents), a whole number: "billing event evt_1 has no usable
  // amount_due: data.object.amount_due is the number 49.5, not a whole number of the currency's smallest unit (...)".
  minorUnits(o, path, what)::
    {
      v:: $.number(o, path, what),
      checked:: if std.floor(self.v) == self.v then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', ' + $.notWhole),
    }.checked,

  optionalMinorUnits(o, path, what)::
    {
      v:: $.optionalNumber(o, path, what),
      checked:: if self.v == null || std.floor(self.v) == self.v then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v) + ', ' + $.notWhole),
    }.checked,

  notWhole:: "not a whole number of the currency's smallest unit (cents: 4900 for 49.00)",

  // Unix seconds (optional, null when missing); a mapping error when it is not a whole number of seconds between
  // the years 1 and 9999 (ds.datetime, which the mapping converts it with, is not available in a library).
  // Whether the time is plausible (not 0001 or 9999) is a rule of config/rules.yaml, checked after mapping.
  unixSeconds(o, path, what)::
    {
      v:: $.get(o, path),
      checked:: if self.v == null then null
                else if std.isNumber(self.v) && std.floor(self.v) == self.v && self.v >= -62135596800 && self.v <= 253402300799 then self.v
                else error (what + ': ' + std.join('.', path) + ' is ' + $.describe(self.v)
                            + ', expected a time in Unix seconds'),
    }.checked,

  // A time written as text with its offset without a colon, as PHP's DATE_ISO8601, Java's "Z" pattern and PostgreSQL's to_char
  // write it ("2026-11-26T10:00:00-0500"), with the colon ("2026-11-26T10:00:00-05:00"), the form Herald's rules, reminders and
  // messages read; any other value as it is.
  offsetWithColon(v)::
    {
      n:: std.length(v),
      digits:: std.stringChars(std.substr(v, self.n - 4, 4)),
      ok:: std.isString(v) && self.n >= 21 && (v[10] == 'T' || v[10] == 't') && std.member('+-', v[self.n - 5])
           && std.member('0123456789', v[self.n - 6]) && std.length([d for d in self.digits if std.member('0123456789', d)]) == 4,
      out:: if self.ok then std.substr(v, 0, self.n - 2) + ':' + std.substr(v, self.n - 2, 2) else v,
    }.out,

  // Minor units to a display amount with the ISO code: money(4900, 'usd') == '49.00 USD'.
  // This form is the contract with dispatch, not what a customer reads: rules and approvals read its number,
  // and dispatch (MessageContext) adds <field>Local, written for the customer's locale ('$49.00', '49,00 $'),
  // which is what templates print (templates/README.md).
  // Each step is an object field, evaluated once (a local would be re-evaluated on every use).
  // A currency that is not text or an amount that is not a plausible number is a mapping error that says so.
  // places: the decimals the minor units count (a unit price's own precision, unitPriceMajor); the currency's exponent when null.
  money(minor, currency, places=null)::
    {
      minor:: if !$.isAmount(minor) then error ('amount ' + $.describe(minor) + ' is not an amount')
              else if std.floor(minor) != minor then error ('amount ' + $.describe(minor) + ' is ' + $.notWhole)
              else minor,
      code:: if std.isString(currency) then std.asciiUpper(currency) else error ('currency ' + $.describe(currency) + ' is not a currency code'),
      digits:: if places != null then places else $.exponent(self.code),
      negative:: self.minor < 0,
      units:: if self.negative then -self.minor else self.minor,
      scale:: std.pow(10, self.digits),
      major:: std.floor(self.units / self.scale),
      fractionText:: std.toString(self.units - self.major * self.scale),
      padded:: std.join('', std.makeArray(self.digits - std.length(self.fractionText), function(i) '0')) + self.fractionText,
      // Stripe counts ISK in hundredths (500 is 5 kr), but the krona has no minor unit: whole krónur are shown without decimals.
      shown:: if self.code == 'ISK' && self.units % self.scale == 0 then 0 else self.digits,
      text:: (if self.negative then '-' else '') + std.toString(self.major) + (if self.shown > 0 then '.' + self.padded else '')
             + ' ' + self.code,
    }.text,

  // The currency's exponent (ISO 4217 minor unit): 2 for most, 0 for JPY, 3 for KWD.
  exponent(code):: if std.length(std.find(code, zeroDecimal)) > 0 then 0
                   else if std.length(std.find(code, threeDecimal)) > 0 then 3
                   else 2,

  // A decimal major-unit amount (CRM sends 129.9) to the same display form: '129.90 EUR'.
  // Major units are scaled by the currency's own exponent: 1200 JPY is 1200 yen, 12.345 KWD is 12345 fils.
  moneyMajor(amount, currency)::
    self.money(if $.isAmount(amount) && std.isString(currency) then $.roundHalfAway(amount * std.pow(10, $.exponent(std.asciiUpper(currency))))
               else amount, currency),

  // A unit price in major units, written with the precision the source gave it, up to a thousandth: labels at 0.125 EUR each
  // are '0.125 EUR' (rounded to a cent, '1,000 x Label at €0.13: €125.00' did not add up), 100.5 JPY is '100.5 JPY'. A total
  // or a line total is money owed, rounded to the currency's unit by moneyMajor.
  unitPriceMajor(amount, currency)::
    {
      base:: if std.isString(currency) then $.exponent(std.asciiUpper(currency)) else 2,
      exact(d):: std.abs(amount * std.pow(10, d) - $.roundHalfAway(amount * std.pow(10, d))) < 1e-6,
      places:: if !$.isAmount(amount) || self.base >= 3 || self.exact(self.base) then self.base
               else if self.exact(self.base + 1) then self.base + 1
               else if self.base + 2 < 3 && self.exact(self.base + 2) then self.base + 2   // 100.25 JPY: two places, not 100.250
               else 3,
      text:: $.money(if $.isAmount(amount) && std.isString(currency) then $.roundHalfAway(amount * std.pow(10, self.places)) else amount,
                     currency, self.places),
    }.text,

  // The nearest whole number, halves away from zero. (Not std.round: in this DataSonnet version it wraps above 2^31,
  // so 50,000,000.00 IDR came out as 7,050,327.04.)
  roundHalfAway(x):: if x < 0 then -std.floor(-x + 0.5) else std.floor(x + 0.5),

  // The shape a mapping returns for an event that is understood but is not a notification.
  ignored(eventId, reason):: { ignored: reason, sourceEventId: eventId },
}
