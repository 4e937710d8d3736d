import { expect } from 'chai';
import { answerMaxAge, ifNoneMatchHits, LIVE_MAX_AGE_SECONDS, PAST_MAX_AGE_SECONDS, strongEtag, weakEtag } from '../../../src/http/caching.ts';

const at = (h: number, m: number, s = 0, ms = 0) => Date.UTC(2026, 10, 20, h, m, s, ms);
const NOW = at(13, 37, 21, 123);
const EVERY_MINUTE = '* * * * *';
const HOURLY = '0 * * * *';

describe('answerMaxAge (Cache-Control max-age of a compiled-query answer)', () => {
  const done = at(13, 37, 5); // the cycle due at 13:37 has finished

  it('keeps a past window until the next scheduled cycle, in whole seconds (38 s before 13:38:00)', () => {
    expect(answerMaxAge({ windowEnd: NOW - 7_200_000, now: NOW, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(38);
  });

  it('gives a window reaching the unsealed minutes (the previous one on) the live bound, now included', () => {
    expect(LIVE_MAX_AGE_SECONDS).to.be.within(0, 10);
    expect(answerMaxAge({ windowEnd: NOW, now: NOW, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(LIVE_MAX_AGE_SECONDS);
    expect(answerMaxAge({ windowEnd: at(13, 36), now: NOW, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(LIVE_MAX_AGE_SECONDS);
    expect(answerMaxAge({ windowEnd: at(13, 36) - 1, now: NOW, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(38);
    expect(answerMaxAge({ windowEnd: NOW + 86_400_000, now: NOW, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(LIVE_MAX_AGE_SECONDS);
  });

  it('caps a past window at PAST_MAX_AGE_SECONDS under a sparse schedule (hourly: 22 min to the next cycle)', () => {
    expect(answerMaxAge({ windowEnd: at(10, 0), now: NOW, cron: HOURLY, lastCycleAt: at(13, 0, 40) })).to.equal(PAST_MAX_AGE_SECONDS);
  });

  it('never reaches past the next cycle, even for a live window (0 s when it fires within the second)', () => {
    const late = at(13, 37, 59, 400);
    expect(answerMaxAge({ windowEnd: at(10, 0), now: late, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(0);
    expect(answerMaxAge({ windowEnd: late, now: late, cron: EVERY_MINUTE, lastCycleAt: done })).to.equal(0);
  });

  it('gives the live bound when a cycle is due and has not finished (it may land any moment), or never ran', () => {
    expect(answerMaxAge({ windowEnd: at(10, 0), now: NOW, cron: EVERY_MINUTE, lastCycleAt: at(13, 36, 59) })).to.equal(LIVE_MAX_AGE_SECONDS);
    expect(answerMaxAge({ windowEnd: at(10, 0), now: NOW, cron: HOURLY, lastCycleAt: at(12, 59) })).to.equal(LIVE_MAX_AGE_SECONDS);
    expect(answerMaxAge({ windowEnd: at(10, 0), now: NOW, cron: EVERY_MINUTE, lastCycleAt: null })).to.equal(LIVE_MAX_AGE_SECONDS);
  });

  it('counts a cycle firing at exactly now as due', () => {
    expect(answerMaxAge({ windowEnd: at(10, 0), now: at(13, 38), cron: EVERY_MINUTE, lastCycleAt: at(13, 37, 30) })).to.equal(LIVE_MAX_AGE_SECONDS);
    expect(answerMaxAge({ windowEnd: at(10, 0), now: at(13, 38), cron: EVERY_MINUTE, lastCycleAt: at(13, 38) })).to.equal(60);
  });
});

describe('strongEtag', () => {
  const body = Buffer.from('{"success":true}');

  it('is a quoted SHA-256 (base64url) of the format and the bytes', () => {
    expect(strongEtag('json', body)).to.match(/^"[A-Za-z0-9_-]{43}"$/);
    expect(strongEtag('json', Buffer.from(body))).to.equal(strongEtag('json', body));
  });

  it('changes with one byte of the body, and with the format', () => {
    expect(strongEtag('json', Buffer.from('{"success":trux}'))).not.to.equal(strongEtag('json', body));
    expect(strongEtag('csv', body)).not.to.equal(strongEtag('json', body));
  });
});

describe('weakEtag', () => {
  it('is the strong tag of the identifying bytes, marked weak', () => {
    const identity = Buffer.from('{"meta":{"staleness_ms":null}}');
    expect(weakEtag('json', identity)).to.equal(`W/${strongEtag('json', identity)}`);
  });
});

describe('ifNoneMatchHits', () => {
  const tag = '"abc"';

  it('matches the tag, its weak form, a list holding it, and *', () => {
    for (const header of ['"abc"', 'W/"abc"', '"x", "abc"', ' "x" ,W/"abc" ', '*']) expect(ifNoneMatchHits(header, tag), header).to.equal(true);
  });

  it('compares a weak tag weakly too: W/"abc" is hit by "abc" and W/"abc" (RFC 9110 13.1.2)', () => {
    for (const header of ['"abc"', 'W/"abc"', '"x", W/"abc"']) expect(ifNoneMatchHits(header, 'W/"abc"'), header).to.equal(true);
    expect(ifNoneMatchHits('"abd"', 'W/"abc"')).to.equal(false);
  });

  it('does not match another tag, an unquoted value, or no header', () => {
    for (const header of ['"abd"', 'abc', '"abc', '', undefined]) expect(ifNoneMatchHits(header, tag), String(header)).to.equal(false);
  });
});
