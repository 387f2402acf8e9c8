/**
 * A live session driven from both real web clients: the agent console signed in and started in
 * one browser context, the customer view in another, consent given.
 */
import type { Browser, Page } from 'puppeteer-core';
import type { TestServer } from '../../harness/harness.ts';

export interface ConsoleSession {
  agent: Page;
  customer: Page;
  link: string;
  id: string;
  close(): Promise<void>;
}

export async function consoleSession(browser: Browser, server: TestServer, url: string, size = { width: 1280, height: 720 }): Promise<ConsoleSession> {
  const agentCtx = await browser.createBrowserContext();
  const agent = await agentCtx.newPage();
  await agent.setViewport(size);
  await agent.goto(`${server.url}/agent#token=${await server.agentToken()}`);
  await agent.waitForSelector('body[data-state="signed-in"]');
  await agent.$eval('#url', (el, v) => ((el as HTMLInputElement).value = v), url);
  await agent.click('#start');
  await agent.waitForFunction(() => (document.getElementById('customer-link') as HTMLInputElement).value.includes('/s/'));
  const link = await agent.$eval('#customer-link', (el) => (el as HTMLInputElement).value);
  const id = decodeURIComponent(new URL(link).pathname.split('/')[2]!);
  const customerCtx = await browser.createBrowserContext();
  const customer = await customerCtx.newPage();
  await customer.setViewport(size);
  await customer.goto(link);
  await customer.waitForSelector('#consent:not([hidden])');
  await customer.click('#accept');
  await customer.waitForSelector('body[data-state="live"]');
  await agent.waitForSelector('body[data-state="live"]');
  return {
    agent,
    customer,
    link,
    id,
    close: async () => {
      await customerCtx.close().catch(() => undefined);
      await agentCtx.close().catch(() => undefined);
    },
  };
}

/** Moves the mouse over the page view at page CSS pixel (x, y) of a 1280×720 session. */
export async function pointAt(page: Page, x: number, y: number, steps = 4): Promise<void> {
  const box = (await (await page.$('#screen'))!.boundingBox())!;
  await page.mouse.move(box.x + (box.width * x) / 1280, box.y + (box.height * y) / 720, { steps });
}
