// Sender validation with fake events: only our window's main frame at our own page may call the engine.
import { describe, expect, it } from 'vitest';
import { isTrustedSender, type SenderFacts } from '../../electron/app/sender';

const filePolicy = { trustedWebContents: new Set([7]), appUrl: 'file:///opt/qzs/resources/app/dist/renderer/index.html' };
const good: SenderFacts = { frameUrl: 'file:///opt/qzs/resources/app/dist/renderer/index.html', isMainFrame: true, webContentsId: 7 };

describe('isTrustedSender', () => {
  it('accepts the main frame of our window at our page (hash and query do not matter)', () => {
    expect(isTrustedSender(good, filePolicy)).toBe(true);
    expect(isTrustedSender({ ...good, frameUrl: good.frameUrl + '#/zones?x=1' }, filePolicy)).toBe(true);
  });
  it('rejects sub-frames, other windows, vanished frames and other pages', () => {
    expect(isTrustedSender({ ...good, isMainFrame: false }, filePolicy)).toBe(false);
    expect(isTrustedSender({ ...good, webContentsId: 8 }, filePolicy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: null }, filePolicy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'file:///tmp/evil.html' }, filePolicy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'https://example.com/index.html' }, filePolicy)).toBe(false);
    expect(isTrustedSender({ ...good, frameUrl: 'not a url' }, filePolicy)).toBe(false);
  });
  it('compares origins for a dev server URL', () => {
    const dev = { trustedWebContents: new Set([1]), appUrl: 'http://localhost:5173/' };
    expect(isTrustedSender({ frameUrl: 'http://localhost:5173/index.html', isMainFrame: true, webContentsId: 1 }, dev)).toBe(true);
    expect(isTrustedSender({ frameUrl: 'http://localhost:5174/', isMainFrame: true, webContentsId: 1 }, dev)).toBe(false);
  });
  it('for the app scheme, trusts its own host only (a custom scheme has no origin to compare)', () => {
    const app = { trustedWebContents: new Set([3]), appUrl: 'qzs://app/index.html' };
    const at = (frameUrl: string): boolean => isTrustedSender({ frameUrl, isMainFrame: true, webContentsId: 3 }, app);
    expect(at('qzs://app/index.html')).toBe(true);
    expect(at('qzs://app/index.html#/hex')).toBe(true);
    expect(at('qzs://evil/index.html')).toBe(false);
    expect(at('qzs://app.evil/index.html')).toBe(false);
    expect(at('file:///index.html')).toBe(false);
    expect(at('https://app/index.html')).toBe(false);
  });
});
