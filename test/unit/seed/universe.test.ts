import { expect } from 'chai';
import { COUNTRIES, MIXED_CASE_TENANTS, SHAPE, UNIVERSE } from '../../../src/seed/universe.ts';

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);

describe('seed universe', () => {
  it('holds the advertised numbers of tenants, pipelines and catalogs, all distinct', () => {
    expect(UNIVERSE.tenants).to.have.length(SHAPE.tenants).and.to.have.length(50);
    expect(UNIVERSE.pipelines).to.have.length(SHAPE.pipelines).and.to.have.length(200);
    expect(UNIVERSE.catalogs).to.have.length(SHAPE.catalogs).and.to.have.length(5000);
    expect(new Set(UNIVERSE.tenants.map((t) => t.toLowerCase())).size).to.equal(50);
    expect(new Set(UNIVERSE.pipelines.map((p) => p.sourceApp)).size).to.equal(200);
    expect(new Set(UNIVERSE.catalogs.map((c) => c.catalogId)).size).to.equal(5000);
  });

  it('gives each catalog exactly one pipeline, listed by that pipeline and by no other', () => {
    const seen = new Map<number, number>();
    UNIVERSE.pipelines.forEach((p, index) => {
      for (const c of p.catalogs) {
        expect(seen.has(c), `catalog ${c} listed twice`).to.equal(false);
        seen.set(c, index);
      }
    });
    expect(seen.size).to.equal(SHAPE.catalogs);
    UNIVERSE.catalogs.forEach((c, i) => expect(seen.get(i)).to.equal(c.pipeline));
  });

  it('gives each pipeline one tenant of the universe, and every tenant a pipeline', () => {
    const tenants = new Set(UNIVERSE.tenants);
    for (const p of UNIVERSE.pipelines) expect(tenants.has(p.tenantId), p.tenantId).to.equal(true);
    expect(new Set(UNIVERSE.pipelines.map((p) => p.tenantId)).size).to.equal(SHAPE.tenants);
  });

  it('gives every pipeline enough catalogs for its largest run', () => {
    for (const p of UNIVERSE.pipelines) expect(p.catalogs.length).to.be.at.least(SHAPE.jobsPerRun.max);
  });

  it('includes mixed-case tenants, so queries must lower-case them', () => {
    for (const t of MIXED_CASE_TENANTS) expect(UNIVERSE.tenants).to.include(t);
    expect(MIXED_CASE_TENANTS.every((t) => t !== t.toLowerCase())).to.equal(true);
  });

  it('assigns twelve countries and leaves about 8% of catalogs without one', () => {
    expect(COUNTRIES).to.have.length(12);
    const countries = UNIVERSE.catalogs.map((c) => c.country);
    const nulls = countries.filter((c) => c === null).length;
    expect(nulls / SHAPE.catalogs).to.be.closeTo(SHAPE.countryNullShare, 0.015);
    expect(new Set(countries.filter((c) => c !== null))).to.have.property('size', 12);
  });

  it('declares shares that add up to one', () => {
    expect(sum(SHAPE.jobStatusShares)).to.be.closeTo(1, 1e-9);
    expect(sum(SHAPE.failedMessageShares)).to.be.closeTo(1, 1e-9);
    expect(sum(SHAPE.environmentShares)).to.be.closeTo(1, 1e-9);
    expect(sum(SHAPE.statusTypeShares)).to.be.closeTo(1, 1e-9);
    expect(sum(SHAPE.attemptShares)).to.be.closeTo(1, 1e-9);
  });

  it('is frozen, so no caller can change what a benchmark cites', () => {
    expect(Object.isFrozen(SHAPE)).to.equal(true);
    expect(Object.isFrozen(UNIVERSE.pipelines)).to.equal(true);
    expect(Object.isFrozen(UNIVERSE.catalogs[0])).to.equal(true);
  });
});
