import { expect } from 'chai';
import { MAX_PATTERN_LENGTH, patternProblem } from '../../../src/auth/pattern.ts';

const raw = String.raw;

/** Patterns both engines read alike and that match in bounded time: they must keep loading. */
const PORTABLE_PATTERNS: readonly string[] = Object.freeze([
  'acme',
  'acme.*',
  'a|b',
  '^acme$',
  'tenant-0[0-4]',
  '[a-z0-9_-]+',
  '[-a]',
  '[^a-z]',
  '(?:dev|prod)[0-9]{1,2}',
  '(dev|prod)',
  raw`\.`,
  raw`a\\b`,
  raw`[\]x]`,
  raw`[a\-z]`,
  raw`\t\n\r\f\v`,
  raw`\u00e9`,
  raw`\/\^\$\*\+\?\(\)\{\}\|`,
  '.*acme.*',
  '[a-z]+-[a-z]+-[a-z]+-[0-9]+',
  '(?:[a-z]|-)+',
  '(?:ab)*',
  '(?:a(?:b|c))*',
  'x{255}',
  'a*?b+?c??d{1,2}?',
  '😀+',
]);

describe('patternProblem', () => {
  it('accepts the subset JavaScript and PostgreSQL read alike, matched in bounded time', () => {
    for (const p of PORTABLE_PATTERNS) expect(patternProblem(p), p).to.equal(undefined);
  });

  describe('refuses, naming the construct, what PostgreSQL reads differently', () => {
    const cases: [string, RegExp][] = [
      ['[^]', /^uses "\[\^\]": an empty class/],
      ['[]', /^uses "\[\]": an empty class/],
      ['a[]|.*', /^uses "\[\]": an empty class/],
      [raw`acme\b`, /^uses "\\\\b": a word boundary in JavaScript/],
      [raw`\Bx`, /^uses "\\\\B": a word boundary/],
      [raw`\x41`, /^uses "\\\\x41": an escape PostgreSQL reads differently/],
      [raw`\u{41}`, /^uses "\\\\u\{41\}": an escape/],
      [raw`\uD83D\uDE00`, /^uses "\\\\uD83D\\\\uDE00": an escape/],
      [raw`\u0000`, /^uses "\\\\u0000": an escape/],
      [raw`\cA`, /^uses "\\\\cA": an escape/],
      [raw`\0`, /^uses "\\\\0": an escape/],
      [raw`prod\d`, /^uses "\\\\d": class escapes follow the database locale/],
      [raw`[\w.]+`, /^uses "\\\\w": class escapes/],
      [raw`a\sb`, /^uses "\\\\s": class escapes/],
      [raw`\S+`, /^uses "\\\\S": class escapes/],
      [raw`\p{L}+`, /^uses "\\\\p\{L\}": Unicode properties/],
      ['[[:a]', /^uses "\[": write \[ inside a class as \\\[/],
      ['[a-c-e]', /^uses "-": a - inside a class must come first or last/],
      ['(?<t>acme)', /^uses "\(\?<t>acme\)": named groups/],
      ['(?i:acme)', /^uses "\(\?i:acme\)": inline modifiers/],
      ['(a)\\1', /^uses "\\\\1": backreferences/],
      ['x(?=y)y', /^uses "\(\?=y\)": lookaround/],
      ['x(?!y)', /^uses "\(\?!y\)": lookaround/],
      ['(?<=a)b', /^uses "\(\?<=a\)": lookaround/],
      ['(?<!a)b', /^uses "\(\?<!a\)": lookaround/],
      ['a{256}', /^uses "a\{256\}": PostgreSQL allows repetition counts up to 255/],
      ['a{1,300}', /^uses "a\{1,300\}": PostgreSQL allows/],
    ];
    for (const [pattern, message] of cases) {
      it(JSON.stringify(pattern), () => expect(patternProblem(pattern)).to.match(message));
    }
  });

  it('refuses a pattern JavaScript cannot parse, with the parser’s reason', () => {
    expect(patternProblem('acme(')).to.match(/^is not valid: .*Unterminated group/);
    expect(patternProblem('a{2')).to.match(/^is not valid: /);
    expect(patternProblem(']')).to.match(/^is not valid: .*Lone quantifier brackets/);
  });

  describe('refuses what could make matching time explode (ReDoS)', () => {
    it('a variable quantifier nested in a repeated one (star height above 1)', () => {
      for (const p of ['(a+)+', '(.*)*', '(?:a?)*', '(a*b)+', '(?:x[a-z]+){2,}', '(a?){30}a{30}', '((ab)*c)*']) {
        expect(patternProblem(p), p).to.match(/^nests the quantifier .* inside the repeated .* \(star height above 1/);
      }
    });

    it('repeated alternatives that can start on the same character', () => {
      for (const p of ['(a|a)*', '(a|aa)*', '(?:ab|a)+', '(?:[a-z]|x)+', '(?:.|a){2,}', '(?:a(?:b|bc))*', '(?:a|)*', '(?:a|[^b])*']) {
        expect(patternProblem(p), p).to.match(/^repeats the alternatives of .* and they can start on the same character/);
      }
    });

    it('three or more variable quantifiers in a row that can take the same characters', () => {
      for (const p of ['.*.*.*', '.*-.*-.*', 'a*a*a*', '[a-z]*[a-z0-9]*[0-9]*', 'a?a?a?', '(?:.*x|y)(?:.*z).*']) {
        expect(patternProblem(p), p).to.match(/^has 3 variable quantifiers in a row/);
      }
    });

    it('a pattern longer than the limit', () => {
      expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH))).to.equal(undefined);
      expect(patternProblem('a'.repeat(MAX_PATTERN_LENGTH + 1))).to.equal(`is ${MAX_PATTERN_LENGTH + 1} characters long; the limit is ${MAX_PATTERN_LENGTH}`);
    });

    it('while patterns of at most two variable quantifiers in a row load, and decide hostile 255-character values', () => {
      // How long they take is measured outside the suite (npm run fuzz reports the event loop's
      // delay); here, that the rules let them through and that they answer as the anchors say.
      const values = ['a'.repeat(254) + '!', '-'.repeat(254) + '!', 'ab'.repeat(127) + '!', 'x'.repeat(255)];
      for (const p of [...PORTABLE_PATTERNS, '.*-.*', 'a*b*a*', '(?:a|b)+c', '.*a.*']) {
        expect(patternProblem(p), p).to.equal(undefined);
        const re = new RegExp(`^(?:${p})$`, 'su');
        expect(values.map((v) => re.test(v)), p).to.have.length(values.length);
      }
      expect(new RegExp('^(?:.*a.*)$', 'su').test('a'.repeat(254) + '!')).to.equal(true);
      expect(new RegExp('^(?:(?:a|b)+c)$', 'su').test('ab'.repeat(127) + '!')).to.equal(false);
    });
  });
});
