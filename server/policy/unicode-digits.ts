/**
 * Where every run of Unicode decimal digits (general category Nd) starts: the code point of its
 * zero. Pages write numbers in any script (Arabic-Indic, Devanagari, full-width, mathematical
 * bold, …) and a person reads them all as digits, so the redaction patterns must too. Every
 * script's digits are ten consecutive code points from zero to nine, and where runs touch (the
 * mathematical digits) they do so in whole tens, so splitting each run of Nd into tens finds
 * every zero. Computed once from the JavaScript engine's own Unicode tables.
 */
function findZeros(): number[] {
  const nd = /\p{Nd}/u;
  const zeros: number[] = [];
  let run = 0;
  for (let cp = 0; cp <= 0x1ffff; cp++) {
    if (nd.test(String.fromCodePoint(cp))) {
      if (run % 10 === 0) zeros.push(cp);
      run++;
    } else run = 0;
  }
  return zeros.filter((z) => z !== 0x30);
}

/** Zeros of every non-ASCII digit run, in code point order. */
export const DIGIT_ZEROS: readonly number[] = findZeros();
