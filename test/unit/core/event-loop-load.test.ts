import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { eventLoopLoad } from '../../../src/core/event-loop-load.ts';

describe('The event loop load', () => {
  it('reads near 1 after the loop ran code for the whole window, and near 0 after it waited the whole window', async () => {
    const load = eventLoopLoad(100);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // busy: the loop runs this, nothing else
    }
    expect(load()).to.be.above(0.8);
    await delay(150);
    expect(load()).to.be.below(0.3);
  });

  it('keeps its last reading within the window', () => {
    const load = eventLoopLoad(60_000);
    expect(load()).to.equal(0);
    const until = performance.now() + 20;
    while (performance.now() < until) {
      // busy
    }
    expect(load(), 'not measured again before the window has passed').to.equal(0);
  });
});
