// The one error type the parsers in parse/ throw for input they cannot read: anything else they throw is a bug
// (the property tests in test/property/ hold them to that).
export class ParseError extends Error {
  override name = 'ParseError';
}
