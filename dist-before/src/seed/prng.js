/**
 * A small seeded PRNG (sfc32, 128-bit state). Seeded data must be reproducible from `--seed`
 * alone, so nothing here touches Math.random or the clock.
 */
const TWO_32 = 0x1_0000_0000;
const GOLDEN = 0x9e3779b9;
/** murmur3's finaliser: spreads every input bit over the whole word. */
function fmix32(h) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
}
export class Prng {
    a;
    b;
    c;
    d;
    /**
     * Seeds from any number of non-negative safe integers (e.g. the seed, the window end, a stream
     * number), so independent streams never share a state by accident.
     */
    constructor(...words) {
        let h = GOLDEN;
        for (const w of words) {
            if (!Number.isSafeInteger(w) || w < 0)
                throw new RangeError(`Prng seed words must be non-negative safe integers, got ${w}`);
            h = fmix32((h ^ (w >>> 0)) + GOLDEN);
            h = fmix32((h ^ Math.floor(w / TWO_32)) + GOLDEN);
        }
        this.a = fmix32(h + 1 * GOLDEN);
        this.b = fmix32(h + 2 * GOLDEN);
        this.c = fmix32(h + 3 * GOLDEN);
        this.d = 1;
        // sfc32's first outputs still echo the seed; the reference implementation discards a dozen.
        for (let i = 0; i < 12; i++)
            this.u32();
    }
    /** A uniform 32-bit unsigned integer. */
    u32() {
        const t = (((this.a + this.b) | 0) + this.d) | 0;
        this.d = (this.d + 1) | 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) | 0;
        this.c = (this.c << 21) | (this.c >>> 11);
        this.c = (this.c + t) | 0;
        return t >>> 0;
    }
    /** Uniform in [0, 1) with 32 bits of resolution: plenty for probabilities. */
    float() {
        return this.u32() / TWO_32;
    }
    /** Uniform integer in [0, n); n may exceed 2^32 (a 90-day window holds 7.8e9 milliseconds). */
    int(n) {
        if (n <= TWO_32)
            return Math.floor((this.u32() / TWO_32) * n);
        const x = (this.u32() * 0x20_0000 + (this.u32() >>> 11)) / 2 ** 53;
        return Math.floor(x * n);
    }
    chance(p) {
        return this.u32() < p * TWO_32;
    }
    pick(items) {
        if (items.length === 0)
            throw new RangeError('pick from an empty list');
        // In range by construction; the cast only tells noUncheckedIndexedAccess so.
        return items[this.int(items.length)];
    }
    /** An RFC 4122 version-4 UUID drawn from this stream. */
    uuid() {
        const a = hex8(this.u32());
        const b = hex8(((this.u32() & 0xffff0fff) | 0x4000) >>> 0);
        const c = hex8(((this.u32() & 0x3fffffff) | 0x80000000) >>> 0);
        const d = hex8(this.u32());
        return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
    }
}
export function hex8(x) {
    return x.toString(16).padStart(8, '0');
}
/**
 * Draws a value by weight. Cumulative bounds are precomputed once per table, so a draw is a short
 * linear scan (the tables hold a handful of entries).
 */
export class WeightedChoice {
    table;
    last;
    total;
    constructor(entries) {
        let sum = 0;
        this.table = entries.map(([value, weight]) => {
            if (!(weight >= 0))
                throw new RangeError(`weights must be non-negative, got ${weight}`);
            sum += weight;
            return { value, upTo: sum };
        });
        const last = entries.at(-1);
        if (!last || sum <= 0)
            throw new RangeError('a weighted choice needs a positive total weight');
        this.last = last[0];
        this.total = sum;
    }
    draw(rng) {
        const x = rng.float() * this.total;
        for (const e of this.table)
            if (x < e.upTo)
                return e.value;
        return this.last;
    }
}
//# sourceMappingURL=prng.js.map