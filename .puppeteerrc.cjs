// Vitrine runs Debian's Chromium (see server/browser/find-browser.ts); puppeteer must never
// try to download its own build (there is no route to its download host here).
module.exports = { skipDownload: true };
