// Photographs the bot's real cards in the Agents Playground for the README.
// Usage: node scripts/screenshots.mjs <playground url> <output folder> <people.json> <waiting case>
// (`make screenshots` starts the bot and the playground first, with the handoff another
// engineer requested waiting (playground/seed.yaml), writes people.json from
// .m365agentsplayground.yml, and stops both after.)
// It walks the README's "Try it": the channel bound, the waiting card, Accept pressed in the
// browser by the person at the keyboard, then a handoff of their own typed in the personal
// chat. The others act through the playground's own API, as its "Mock an Activity" menu does.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [baseUrl, outDir, peopleFile, waitingCase] = process.argv.slice(2);
if (!baseUrl || !outDir || !peopleFile || !waitingCase) {
  console.error('usage: node scripts/screenshots.mjs <playground url> <output folder> <people.json> <waiting case>');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const scenario = JSON.parse(readFileSync(join(root, 'playground/scenario.json'), 'utf8'));
const people = JSON.parse(readFileSync(peopleFile, 'utf8'));
const bot = people.bot;
const personalChat = people.personalChat.id;
const team = people.team.id;
const channel = people.team.channels[0].id;
const WAIT_MS = 20000;

async function api(path, body, method = 'POST') {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

async function mockEvent(conversationId, type) {
  const query = new URLSearchParams({ conversationId, type });
  await api('/_internal/v1/customActivities', await api(`/_internal/v1/customActivities/template?${query}`, undefined, 'GET'));
}

function cardOf(message) {
  const attachment = (message.attachments || []).find((a) => a.contentType === 'application/vnd.microsoft.card.adaptive');
  return attachment ? attachment.content : null;
}

function formOf(card) {
  const forms = new Set((card?.actions || []).map((a) => a.data?.form).filter(Boolean));
  return forms.size === 1 ? [...forms][0] : null;
}

// What Teams sends for a form left as shown except for `changes` (see tests/harness/chat.py).
function teamsValues(card, changes) {
  const values = {};
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      if (String(node.type || '').startsWith('Input.') && node.id) {
        const fallback = node.type === 'Input.Toggle' ? (node.valueOff ?? 'false') : '';
        values[node.id] = String(node.value ?? fallback);
      }
      Object.values(node).forEach(walk);
    }
  };
  walk(card.body || []);
  return { ...values, ...changes };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 2200 } });
  await page.goto(baseUrl);
  await page.getByText('Case Transfer').first().waitFor({ timeout: WAIT_MS });
  // The page listens to the same stream as the web client, so the script sees what it shows.
  await page.evaluate((url) => new Promise((resolve) => {
    window.botEvents = [];
    const socket = new WebSocket(url);
    socket.onmessage = (event) => window.botEvents.push(JSON.parse(event.data));
    socket.onopen = resolve;
  }), `${baseUrl.replace(/^http/, 'ws')}/_ws_conversation/v1/conversations/stream`);

  let seen = 0;
  async function next(predicate, description) {
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      const events = await page.evaluate(() => window.botEvents);
      const found = events.slice(seen).find((e) => e.message && predicate(e));
      if (found) {
        seen = events.indexOf(found) + 1;
        return found;
      }
      await page.waitForTimeout(100);
    }
    const recent = (await page.evaluate(() => window.botEvents)).slice(-4)
      .map((e) => `${e.action} ${(e.message?.text || '').slice(0, 80)} ${JSON.stringify(cardOf(e.message || {}) || '').slice(0, 120)}`);
    throw new Error(`no ${description} within ${WAIT_MS} ms; last events: ${recent.join(' | ')}`);
  }
  // The last card on the page, or the last one that says `text`.
  async function shoot(name, text) {
    await page.waitForTimeout(800); // let the card renderer finish its layout
    const cards = page.locator('.ac-adaptiveCard');
    const card = (text ? cards.filter({ hasText: text }) : cards).last();
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: join(outDir, name) });
    console.log(`wrote ${join(outDir, name)}`);
    return card;
  }
  async function openConversation(name) {
    await page.getByText(name, { exact: true }).first().click();
  }

  mkdirSync(outDir, { recursive: true });
  await mockEvent(team, 'install');
  await mockEvent(team, 'botAdded');
  const mention = `<at>${bot.name}</at>`;
  await api(`/_conversation/v1/conversations/${channel}/messages`, {
    from: { id: scenario.lead }, text: `${mention} setup`, textFormat: 'plain',
    mentions: [{ mentioned: { id: bot.id }, text: mention }],
  });
  await next((e) => (e.message.text || '').includes('now the Case Transfer channel'), 'channel bound');
  await next((e) => e.actionConversationId.startsWith(channel) && cardOf(e.message), 'the waiting card');
  await openConversation('Case Transfer');
  await page.getByText(`Case ${waitingCase}`).first().waitFor({ timeout: WAIT_MS });
  const waiting = await shoot('case-transfer-requested.png', `Case ${waitingCase}`);

  // Accept, pressed as the README says: by the person at the keyboard, in the browser.
  await waiting.getByRole('button', { name: 'Accept' }).click();
  await next((e) => e.action === 'updateMessage', 'card updated');
  await page.getByText('Accepted by').first().waitFor({ timeout: WAIT_MS });
  await shoot('case-transfer-accepted.png', `Case ${waitingCase}`);

  // Their own handoff: the command typed into the real message box of the personal chat.
  await openConversation('Personal Chat');
  const box = page.locator('[data-lexical-editor="true"]');
  await box.click();
  await page.keyboard.type(`handoff ${scenario.case}`);
  await page.keyboard.press('Enter');
  let shown = await next((e) => formOf(cardOf(e.message)) === 'case', 'case form');
  await shoot('handoff-case-form.png');

  const contact = new Date(Date.now() + scenario.next_contact_in_days * 86400000).toISOString().slice(0, 10);
  const answers = { ...scenario.forms, notes: { ...scenario.forms.notes, next_contact_date: contact } };
  while (formOf(cardOf(shown.message)) !== 'review') {
    const form = formOf(cardOf(shown.message));
    await api('/_conversation/v1/submit', {
      conversation: { id: personalChat }, from: { id: scenario.requester }, replyToId: shown.message.messageId,
      value: { form, action: 'next', ...teamsValues(cardOf(shown.message), answers[form]) },
    });
    shown = await next((e) => e.message.from?.id === bot.id && cardOf(e.message), `card after ${form}`);
  }
  await shoot('handoff-review.png');

  // Request it, then ask how the team's handoffs are doing.
  await api('/_conversation/v1/submit', {
    conversation: { id: personalChat }, from: { id: scenario.requester }, replyToId: shown.message.messageId,
    value: { form: 'review', action: 'next' },
  });
  await next((e) => e.actionConversationId.startsWith(channel) && cardOf(e.message), 'its card in the channel');
  await api(`/_conversation/v1/conversations/${personalChat}/messages`, {
    from: { id: people.currentUser.id }, text: 'insights', textFormat: 'plain',
  });
  await next((e) => e.message.from?.id === bot.id && cardOf(e.message)
    && JSON.stringify(cardOf(e.message)).includes('Handoff insights'), 'the insights card');
  await shoot('insights.png', 'Handoff insights');
} finally {
  await browser.close();
}
