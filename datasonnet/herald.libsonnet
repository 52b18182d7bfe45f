// Shared helpers for Herald's mappings. Imported as: local herald = import 'herald.libsonnet';
// It is on the classpath (the pom packs datasonnet/*.libsonnet), because camel-datasonnet
// finds libraries by scanning the classpath; the *.ds mappings themselves are read from disk.
local zeroDecimal = ['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
local threeDecimal = ['BHD', 'JOD', 'KWD', 'OMR', 'TND'];

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
      checked:: if self.v == null then error (what + ': ' + std.join('.', path) + ' is null')
                else if std.isString(self.v) && std.length(std.stripChars(self.v, ' ')) == 0 then error (what + ': ' + std.join('.', path) + ' is empty')
                else self.v,
    }.checked,

  // Minor units to a display amount with the ISO code: money(4900, 'usd') == '49.00 USD'.
  // Each step is an object field, evaluated once (a local would be re-evaluated on every use).
  money(minor, currency)::
    {
      minor:: minor,
      code:: std.asciiUpper(currency),
      digits:: if std.length(std.find(self.code, zeroDecimal)) > 0 then 0
               else if std.length(std.find(self.code, threeDecimal)) > 0 then 3
               else 2,
      negative:: self.minor < 0,
      units:: if self.negative then -self.minor else self.minor,
      scale:: std.pow(10, self.digits),
      major:: std.floor(self.units / self.scale),
      fractionText:: std.toString(self.units - self.major * self.scale),
      padded:: std.join('', std.makeArray(self.digits - std.length(self.fractionText), function(i) '0')) + self.fractionText,
      text:: (if self.negative then '-' else '') + std.toString(self.major) + (if self.digits > 0 then '.' + self.padded else '')
             + ' ' + self.code,
    }.text,

  // A decimal major-unit amount (CRM sends 129.9) to the same display form: '129.90 EUR'.
  moneyMajor(amount, currency)::
    self.money(std.round(amount * 100), currency),

  // The shape a mapping returns for an event that is understood but is not a notification.
  ignored(eventId, reason):: { ignored: reason, sourceEventId: eventId },
}
