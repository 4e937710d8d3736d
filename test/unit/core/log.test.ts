import { expect } from 'chai';
import { serializeError } from '../../../src/core/log.ts';

describe('serializeError', () => {
  it('keeps the facts of a driver error and drops its client', () => {
    const err = Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL', client: { password: 'secret' } });
    const out = serializeError(err);
    expect(out).to.include({ type: 'Error', message: 'terminating connection', code: '57P01', severity: 'FATAL' });
    expect(JSON.stringify(out)).not.to.include('secret');
  });

  it('describes a thrown non-error', () => {
    expect(serializeError('boom')).to.deep.equal({ message: 'boom' });
  });
});
