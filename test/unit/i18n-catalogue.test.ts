/**
 * The customer's catalogue has words for every notice code and every end reason the protocol
 * knows, in every language, and the consent sentences are whole sentences with placeholders (so
 * each language orders them its own way): adding a code to server/protocol.ts without its words
 * fails here.
 */
import { expect } from 'chai';
import { END_REASONS, NOTICE_CODES, NoticeParamsSchema } from '../../server/protocol.ts';
import { entryOf, hasEntry, LANGUAGES, type Lang } from '../../client/src/i18n.ts';

const LANGS = Object.keys(LANGUAGES) as Lang[];

describe('the customer catalogue', function () {
  it('has an entry for every notice code in every language (people notices for supervisors too)', function () {
    const missing: string[] = [];
    for (const l of LANGS) {
      for (const code of NOTICE_CODES) if (!hasEntry(l, `notice.${code}`)) missing.push(`${l}: notice.${code}`);
      for (const code of ['PARTICIPANT_JOINED', 'PARTICIPANT_LEFT']) if (!hasEntry(l, `notice.${code}.supervisor`)) missing.push(`${l}: notice.${code}.supervisor`);
    }
    expect(missing).to.deep.equal([]);
    expect(NOTICE_CODES.length).to.be.above(10);
  });

  it('has an entry for every end reason in every language, each a whole sentence', function () {
    const missing: string[] = [];
    for (const l of LANGS) for (const reason of END_REASONS) if (!hasEntry(l, `end.${reason}`)) missing.push(`${l}: end.${reason}`);
    expect(missing).to.deep.equal([]);
    expect(entryOf('de', 'end.ended_by_agent')).to.equal('Sitzung beendet: Ihr Berater hat sie beendet.');
  });

  it('words the consent as one sentence per language, with every placeholder in it', function () {
    for (const l of LANGS) {
      for (const [key, vars] of [
        ['consent.title', ['{company}']],
        ['consent.ask.one', ['{agents}', '{company}']],
        ['consent.ask.many', ['{agents}', '{company}']],
        ['consent.hidden', ['{masked}']],
        ['replaced.text', []],
      ] as const) {
        const text = entryOf(l, key);
        expect(text, `${l}: ${key}`).to.be.a('string');
        for (const v of vars) expect(text, `${l}: ${key} has ${v}`).to.include(v);
      }
    }
  });

  it('takes only bounded, known notice parameters', function () {
    expect(NoticeParamsSchema.safeParse({ role: 'agent', name: 'Agent One' }).success).to.equal(true);
    expect(NoticeParamsSchema.safeParse({ role: 'admin', name: 'x' }).success).to.equal(false);
    expect(NoticeParamsSchema.safeParse({ name: 'x'.repeat(101) }).success).to.equal(false);
    expect(NoticeParamsSchema.safeParse({ name: 'x', html: '<b>' }).success).to.equal(false);
  });
});
