/** The composition's resource stack (server/resource-stack.ts): built in order, undone in reverse, once. */
import { expect } from 'chai';
import { ResourceStack } from '../../server/resource-stack.ts';

describe('resource stack', () => {
  it('undoes everything last first, once, even when a step fails, and reports the first failure', async () => {
    const stack = new ResourceStack();
    const undone: string[] = [];
    stack.use('a', 'A', (v) => void undone.push(v));
    stack.defer('b', async () => {
      undone.push('B');
      throw new Error('b failed');
    });
    stack.defer('c', () => {
      undone.push('C');
      throw new Error('c failed');
    });
    expect(stack.order).to.deep.equal(['c', 'b', 'a']);
    const first = stack.close();
    expect(stack.close()).to.equal(first);
    await first.then(
      () => expect.fail('a failed step was hidden'),
      (e) => expect(e.message).to.equal('c failed'),
    );
    expect(undone).to.deep.equal(['C', 'B', 'A']);
    expect(() => stack.defer('late', () => undefined)).to.throw(/closing/);
  });

  it("unwinds what a failed build had built and rethrows the build's own error", async () => {
    const stack = new ResourceStack();
    const undone: string[] = [];
    const err = await stack
      .build(async (s) => {
        s.defer('first', () => void undone.push('first'));
        s.defer('second', () => {
          undone.push('second');
          throw new Error('cleanup failed too');
        });
        throw new Error('listen EADDRINUSE');
      })
      .catch((e: Error) => e);
    expect((err as Error).message).to.equal('listen EADDRINUSE');
    expect(undone).to.deep.equal(['second', 'first']);
  });

  it('hands back what a successful build returns and keeps its resources until close', async () => {
    const stack = new ResourceStack();
    let open = false;
    const v = await stack.build(async (s) => s.use('thing', { n: 1 }, () => void (open = false)) && ((open = true), 42));
    expect(v).to.equal(42);
    expect(open).to.equal(true);
    await stack.close();
    expect(open).to.equal(false);
  });
});
