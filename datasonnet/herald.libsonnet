// Shared helpers for Herald's mappings. Imported as: local herald = import 'herald.libsonnet';
// It is on the classpath (the pom packs datasonnet/*.libsonnet), because camel-datasonnet
// finds libraries by scanning the classpath; the *.ds mappings themselves are read from disk.
local zeroDecimal = ['BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF'];
local threeDecimal = ['BHD', 'JOD', 'KWD', 'OMR', 'TND'];

{
  // Value at a path of field names, or null when any step is missing or null.
  get(o, path)::
    if std.length(path) == 0 then o
    else if o == null || !std.isObject(o) || !std.objectHas(o, path[0]) then null
    else self.get(o[path[0]], path[1:std.length(path)]),

  // Value at a path, or a mapping error that says what is missing and where:
  // "billing event evt_1 has no customer: data.object.customer is null".
  required(o, path, what)::
    local v = self.get(o, path);
    if v == null then error (what + ': ' + std.join('.', path) + ' is null')
    else if std.isString(v) && std.length(std.stripChars(v, ' ')) == 0 then error (what + ': ' + std.join('.', path) + ' is empty')
    else v,

  // Minor units to a display amount with the ISO code: money(4900, 'usd') == '49.00 USD'.
  money(minor, currency)::
    local code = std.asciiUpper(currency);
    local digits = if std.length(std.find(code, zeroDecimal)) > 0 then 0
                   else if std.length(std.find(code, threeDecimal)) > 0 then 3
                   else 2;
    local negative = minor < 0;
    local units = if negative then -minor else minor;
    local scale = std.pow(10, digits);
    local major = std.floor(units / scale);
    local fraction = units - major * scale;
    local fractionText = std.toString(fraction);
    local padded = std.join('', std.makeArray(digits - std.length(fractionText), function(i) '0')) + fractionText;
    (if negative then '-' else '') + std.toString(major) + (if digits > 0 then '.' + padded else '') + ' ' + code,

  // A decimal major-unit amount (CRM sends 129.9) to the same display form: '129.90 EUR'.
  moneyMajor(amount, currency)::
    self.money(std.round(amount * 100), currency),

  // The shape a mapping returns for an event that is understood but is not a notification.
  ignored(eventId, reason):: { ignored: reason, sourceEventId: eventId },
}
