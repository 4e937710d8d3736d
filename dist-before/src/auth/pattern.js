/**
 * The rules an access.json pattern must follow, checked once when the file is loaded.
 *
 * A pattern runs in two engines: JavaScript's RegExp (valueAllowed, on a constrained user's filter
 * values) and PostgreSQL's ARE (scope.ts, on every row). So it must mean the same in both, and it
 * must not let a filter value of a few hundred characters stall the event loop in JavaScript's
 * backtracking matcher. The pattern is parsed as JavaScript reads it (regexpp, `u` mode) and every
 * node is checked against the subset both engines read alike (measured against PostgreSQL 18 in
 * test/unit/auth/scope.test.ts):
 *   - literal characters, and a backslash before one of ^ $ \ . * + ? ( ) [ ] { } | / (and - in a class);
 *   - the escapes \t \n \r \f \v and \uXXXX (four hex digits, not a surrogate);
 *   - `.` (any character, newline included: flag `s`, as PostgreSQL);
 *   - classes [abc] [^abc] [a-z], not empty, with `-` literal only first or last, `[` escaped;
 *   - groups (...) and (?:...), alternation, ^ and $;
 *   - quantifiers * + ? {n} {n,} {n,m} and their lazy forms, with counts up to 255 (PostgreSQL's limit).
 * Everything else is refused, with the reason:
 *   - [] and [^]: nothing / any character in JavaScript, the start of a class holding `]` in PostgreSQL;
 *   - \b \B: word boundaries in JavaScript; backspace and a literal B in PostgreSQL;
 *   - \d \w \s and their negations: ASCII (\d \w) or Unicode (\s) in JavaScript, the database's locale
 *     in PostgreSQL (there \s misses U+00A0, for one): write the class out, e.g. [0-9] or [A-Za-z0-9_];
 *   - \x, \c, \0, \u{...}, \p{...}: read differently by PostgreSQL (\x61b is one character there) or not at all;
 *   - backreferences, lookahead and lookbehind, named groups, (?i:...) modifiers: outside the subset
 *     (backreferences are also the one feature that makes PostgreSQL's matcher exponential);
 *   - a pattern longer than MAX_PATTERN_LENGTH characters.
 *
 * ReDoS: JavaScript backtracks. A pattern is refused when a repetition can split the same text in
 * more than one way, the cause of exponential matching time:
 *   - star height above 1: a quantifier that can vary (min < max) inside one that can repeat (max > 1),
 *     as in (a+)+, (a?)*, (.*)*;
 *   - alternatives inside a repetition that could start on the same character, as in (a|a)*, (a|aa)*:
 *     each alternative there must start with a required character (or class) no other one can start with.
 * Then each repetition body matches at most one way from a given position, and the time is
 * polynomial, of degree the number of variable quantifiers that can take the same characters in a row
 * (.*-.*-.* is 3: its values of dashes split 255²/2 ways). That degree must stay below 3, so a filter
 * value of 255 characters costs at most ~65,000 steps a pattern.
 */
import { RegExpParser, visitRegExpAST } from '@eslint-community/regexpp';
/** Longer patterns are refused: they are never needed to name tenants, apps or environments. */
export const MAX_PATTERN_LENGTH = 256;
/** PostgreSQL's RE_DUP_MAX: a larger {n,m} is an error there, at query time. */
const MAX_COUNT = 255;
/** Variable quantifiers that may take the same characters in a row; 3 made 34 ms a value, 4 made 2 s. */
const MAX_AMBIGUITY_DEGREE = 2;
const MAX_CODE_POINT = 0x10ffff;
/** Escapes that follow a backslash and mean their own character in both engines. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const CONTROL = new Set(['\\t', '\\n', '\\r', '\\f', '\\v']);
const parser = new RegExpParser({ ecmaVersion: 2025 });
/** Why a pattern is refused, or undefined when it is within the rules above. */
export function patternProblem(pattern) {
    if (pattern.length > MAX_PATTERN_LENGTH)
        return `is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`;
    let ast;
    try {
        ast = parser.parsePattern(pattern, 0, pattern.length, { unicode: true });
    }
    catch (err) {
        return `is not valid: ${err.message}`;
    }
    return unsupported(ast) ?? ambiguity(ast);
}
/** The first construct outside the common subset. */
function unsupported(ast) {
    let found;
    const refuse = (node, why) => {
        found ??= `uses ${node.raw === '' ? 'an empty group' : JSON.stringify(node.raw)}: ${why}`;
    };
    visitRegExpAST(ast, {
        onCharacterEnter(c) {
            if (c.raw.startsWith('\\')) {
                const plain = SYNTAX.has(c.raw.slice(1)) || (c.raw === '\\-' && c.parent.type === 'CharacterClass') || CONTROL.has(c.raw);
                const unicode = /^\\u[0-9a-fA-F]{4}$/.test(c.raw) && c.value !== 0 && (c.value < 0xd800 || c.value > 0xdfff);
                if (!plain && !unicode)
                    refuse(c, 'an escape PostgreSQL reads differently (allowed: \\t \\n \\r \\f \\v, \\uXXXX, a backslash before a metacharacter)');
            }
            else if (c.raw === '[') {
                // Only a class can hold an unescaped [.
                refuse(c, 'write [ inside a class as \\[ (PostgreSQL reads [: [. [= there)');
            }
            else if (c.raw === '-' && c.parent.type === 'CharacterClass') {
                const i = c.parent.elements.indexOf(c);
                if (i > 0 && i < c.parent.elements.length - 1)
                    refuse(c, 'a - inside a class must come first or last, or be written \\-');
            }
        },
        onCharacterClassEnter(c) {
            if (c.elements.length === 0)
                refuse(c, 'an empty class means nothing or any character in JavaScript, and opens a class holding ] in PostgreSQL');
        },
        onCharacterSetEnter(s) {
            if (s.kind === 'property')
                refuse(s, 'Unicode properties exist only in JavaScript');
            else if (s.kind !== 'any')
                refuse(s, 'class escapes follow the database locale in PostgreSQL; write the class out, e.g. [0-9] or [A-Za-z0-9_]');
        },
        onAssertionEnter(a) {
            if (a.kind === 'word')
                refuse(a, 'a word boundary in JavaScript, backspace or a letter in PostgreSQL');
            else if (a.kind === 'lookahead' || a.kind === 'lookbehind')
                refuse(a, 'lookaround is outside the common subset');
        },
        onBackreferenceEnter(b) {
            refuse(b, 'backreferences are outside the common subset (and exponential in PostgreSQL)');
        },
        onCapturingGroupEnter(g) {
            if (g.name !== null)
                refuse(g, 'named groups exist only in JavaScript; use (?:...)');
        },
        onGroupEnter(g) {
            if (g.modifiers !== null)
                refuse(g, 'inline modifiers exist only in JavaScript');
        },
        onQuantifierEnter(q) {
            if (q.min > MAX_COUNT || (q.max !== Infinity && q.max > MAX_COUNT))
                refuse(q, `PostgreSQL allows repetition counts up to ${MAX_COUNT}`);
        },
    });
    return found;
}
const ANY = [[0, MAX_CODE_POINT]];
function union(a, b) {
    const sorted = [...a, ...b].sort((x, y) => x[0] - y[0]);
    const out = [];
    for (const [from, to] of sorted) {
        const last = out.at(-1);
        if (last && from <= last[1] + 1)
            last[1] = Math.max(last[1], to);
        else
            out.push([from, to]);
    }
    return out;
}
function overlaps(a, b) {
    return a.some(([f1, t1]) => b.some(([f2, t2]) => f1 <= t2 && f2 <= t1));
}
function complement(a) {
    const out = [];
    let next = 0;
    for (const [from, to] of a) {
        if (from > next)
            out.push([next, from - 1]);
        next = to + 1;
    }
    if (next <= MAX_CODE_POINT)
        out.push([next, MAX_CODE_POINT]);
    return out;
}
/** The characters an element can take (anything, for the constructs `unsupported` refuses). */
function charsOf(node) {
    switch (node.type) {
        case 'Character':
            return [[node.value, node.value]];
        case 'CharacterClass': {
            let set = [];
            for (const e of node.elements) {
                if (e.type === 'Character')
                    set = union(set, [[e.value, e.value]]);
                else if (e.type === 'CharacterClassRange')
                    set = union(set, [[e.min.value, e.max.value]]);
                else
                    set = ANY;
            }
            return node.negate ? complement(set) : set;
        }
        case 'Quantifier':
            return charsOf(node.element);
        case 'Group':
        case 'CapturingGroup':
            return node.alternatives.flatMap((a) => a.elements).reduce((s, e) => union(s, charsOf(e)), []);
        case 'Assertion':
            return node.kind === 'start' || node.kind === 'end' ? [] : ANY;
        default:
            return ANY;
    }
}
/** A single required character (or class): what starts an alternative unambiguously. */
const singleChar = (e) => e?.type === 'Character' || e?.type === 'CharacterClass';
/** The first ReDoS rule broken inside `node`; `repeat` is the innermost enclosing quantifier with max > 1. */
function nesting(node, repeat) {
    if (node.type === 'Quantifier') {
        if (repeat && node.min !== node.max)
            return `nests the quantifier ${JSON.stringify(node.raw)} inside the repeated ${JSON.stringify(repeat.raw)} (star height above 1: exponential matching time)`;
        return nesting(node.element, node.max > 1 ? node : repeat);
    }
    if (node.type !== 'Pattern' && node.type !== 'Group' && node.type !== 'CapturingGroup')
        return undefined;
    if (repeat && node.alternatives.length > 1) {
        const firsts = node.alternatives.map((a) => a.elements[0]);
        let seen = [];
        for (const first of firsts) {
            const set = singleChar(first) ? charsOf(first) : ANY;
            if (!singleChar(first) || overlaps(seen, set)) {
                return `repeats the alternatives of ${JSON.stringify(node.raw)} inside ${JSON.stringify(repeat.raw)}, and they can start on the same character (exponential matching time); start each with a distinct character`;
            }
            seen = union(seen, set);
        }
    }
    for (const alternative of node.alternatives) {
        for (const e of alternative.elements) {
            const problem = nesting(e, repeat);
            if (problem)
                return problem;
        }
    }
    return undefined;
}
function scanElements(elements, run) {
    for (const e of elements)
        scanElement(e, run);
}
function scanBranch(node, run) {
    const ends = node.alternatives.map((a) => {
        const copy = { ...run };
        scanElements(a.elements, copy);
        return copy;
    });
    run.chars = ends.reduce((s, r) => union(s, r.chars), run.chars);
    run.degree = Math.max(...ends.map((r) => r.degree));
    run.worst = Math.max(run.worst, ...ends.map((r) => r.worst));
}
/** A required part: a single character outside the run's characters ends the run (no split can move past it). */
function required(e, run) {
    if (e.type === 'Group' || e.type === 'CapturingGroup')
        return scanBranch(e, run);
    if (e.type === 'Quantifier')
        return scanElement(e, run);
    if (e.type === 'Assertion')
        return;
    const set = charsOf(e);
    if (!overlaps(set, run.chars)) {
        run.chars = [];
        run.degree = 0;
    }
}
function scanElement(e, run) {
    if (e.type !== 'Quantifier')
        return required(e, run);
    if (e.min > 0)
        required(e.element, run);
    if (e.min === e.max)
        return;
    const set = charsOf(e.element);
    run.degree = overlaps(set, run.chars) ? run.degree + 1 : Math.max(run.degree, 1);
    run.chars = union(run.chars, set);
    run.worst = Math.max(run.worst, run.degree);
}
function ambiguity(ast) {
    const nested = nesting(ast, undefined);
    if (nested)
        return nested;
    let worst = 0;
    for (const a of ast.alternatives) {
        const run = { chars: [], degree: 0, worst: 0 };
        scanElements(a.elements, run);
        worst = Math.max(worst, run.worst);
    }
    if (worst > MAX_AMBIGUITY_DEGREE) {
        return `has ${worst} variable quantifiers in a row that can take the same characters (as in .*-.*-.*): matching time grows with the value's length to the power ${worst}; at most ${MAX_AMBIGUITY_DEGREE} are allowed`;
    }
    return undefined;
}
//# sourceMappingURL=pattern.js.map