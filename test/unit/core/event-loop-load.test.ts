import { expect } from 'chai';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { eventLoopLoad, type LoopClock } from '../../../src/core/event-loop-load.ts';

/** A loop whose time and busy time the test moves by hand. */
function scriptedLoop(): LoopClock & { run(ms: number): void; wait(ms: number): void } {
  let now = 0;
  let active = 0;
  const reading = (): EventLoopUtilization => ({ idle: now - active, active, utilization: now ? active / now : 0 });
  return {
    now: () => now,
    utilization(current, since) {
      if (!current) return reading();
      const span = current.active + current.idle - ((since?.active ?? 0) + (since?.idle ?? 0));
      const busy = current.active - (since?.active ?? 0);
      return { active: busy, idle: span - busy, utilization: span ? busy / span : 0 };
    },
    run(ms) {
      now += ms;
      active += ms;
    },
    wait(ms) {
      now += ms;
    },
  };
}

describe('The event loop load', () => {
  it('reads the busy share of the interval since its last reading, once the window has passed', () => {
    const loop = scriptedLoop();
    const load = eventLoopLoad(100, loop);
    loop.run(150);
    expect(load()).to.equal(1);
    loop.wait(150);
    expect(load()).to.equal(0);
    loop.run(30);
    loop.wait(90);
    expect(load()).to.equal(0.25);
  });

  it('keeps its last reading within the window', () => {
    const loop = scriptedLoop();
    const load = eventLoopLoad(100, loop);
    loop.run(120);
    expect(load()).to.equal(1);
    loop.wait(60);
    expect(load(), 'not measured again before the window has passed').to.equal(1);
    loop.wait(60);
    expect(load()).to.equal(0);
  });

  it("reads node's own loop: near 1 after running code for the whole window, lower after waiting", async () => {
    // No bound on the idle reading: on a loaded machine a sleeping process wakes late and the
    // wait counts partly as busy (CI saw 0.5); the scripted tests above pin the arithmetic.
    const load = eventLoopLoad(100);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // busy: the loop runs this, nothing else
    }
    const busy = load();
    expect(busy).to.be.above(0.8);
    await delay(300);
    expect(load()).to.be.below(busy);
  });
});
