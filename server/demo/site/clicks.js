// A class on <html> rather than an inline body style: the root background paints the whole
// viewport, whatever the body's height.
document.getElementById('big').addEventListener('click', () => {
  document.documentElement.classList.toggle('toggled');
});
