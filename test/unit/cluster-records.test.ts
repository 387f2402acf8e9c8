/** The cluster's Redis values are parsed, never trusted (server/cluster/records.ts). */
import { expect } from 'chai';
import { ClusterEventSchema, NodeLoadSchema, parseRecord, SessionRecordSchema } from '../../server/cluster/records.ts';

const node = { id: 'node-a', advertise: '10.0.0.5:7081', draining: false, capacity: { total: 8, used: 1, free: 7 }, cpuHeadroom: 0.6, sessions: 1, heartbeatAt: 1, startedAt: 1 };

describe('cluster records', function () {
  it('reads what nodes write', function () {
    expect(parseRecord(NodeLoadSchema, JSON.stringify(node))).to.deep.equal(node);
    expect(parseRecord(NodeLoadSchema, JSON.stringify({ ...node, advertise: '[::1]:7081' }))?.advertise).to.equal('[::1]:7081');
    const live = { id: 's1', node: 'node-a', agent: { sub: 'a', name: 'A' }, createdAt: 5, policy: 'default' };
    expect(parseRecord(SessionRecordSchema, JSON.stringify(live))).to.deep.equal(live);
    const ended = { id: 's1', node: 'node-a', ended: { reason: 'expired', at: 9 } };
    expect(parseRecord(SessionRecordSchema, JSON.stringify(ended))).to.deep.equal(ended);
    expect(parseRecord(ClusterEventSchema, JSON.stringify({ type: 'node-lost', node: 'b', sessions: 2, by: 'a' }))).to.deep.equal({ type: 'node-lost', node: 'b', sessions: 2, by: 'a' });
  });

  it('skips anything else: not JSON, wrong shape, an address that is not host:port, an unknown end reason or event', function () {
    expect(parseRecord(NodeLoadSchema, 'not json')).to.equal(null);
    expect(parseRecord(NodeLoadSchema, null)).to.equal(null);
    expect(parseRecord(NodeLoadSchema, JSON.stringify({ ...node, advertise: 'http://evil.example/' }))).to.equal(null);
    expect(parseRecord(NodeLoadSchema, JSON.stringify({ ...node, capacity: { total: -1, used: 0, free: 0 } }))).to.equal(null);
    expect(parseRecord(SessionRecordSchema, JSON.stringify({ id: 's1', node: 'node-a', ended: { reason: 'because', at: 1 } }))).to.equal(null);
    expect(parseRecord(ClusterEventSchema, JSON.stringify({ type: 'drop-tables', node: 'a' }))).to.equal(null);
    expect(parseRecord(ClusterEventSchema, JSON.stringify({ type: 'session-ended', session: 's', reason: 'expired' }))).to.equal(null);
  });
});
