// The revealed number is a Luhn-valid test card written into the page as plain text, so
// co-browsing redaction of card numbers in ordinary text can be tried and tested.
const MASKED = '•••• 4242';
const FULL = '4111 1111 1111 1111';
const number = document.getElementById('card-number');
const reveal = document.getElementById('reveal');
reveal.addEventListener('click', () => {
  const show = number.textContent === MASKED;
  number.textContent = show ? FULL : MASKED;
  reveal.textContent = show ? 'Hide full card number' : 'Show full card number';
});
