// Sender validation (Electron security checklist #17): only the main frame of our own window, showing our
// own page, may call the engine. Pure so it can be tested with fake events; electron/main/ipc.ts adapts
// Electron's IpcMainInvokeEvent to this shape.

export interface SenderFacts {
  /** URL of the frame that sent the message (null when the frame is gone). */
  frameUrl: string | null;
  /** True when the sending frame is the top-level frame of its WebContents. */
  isMainFrame: boolean;
  /** The WebContents id of the sender. */
  webContentsId: number;
}

export interface TrustPolicy {
  /** WebContents ids of the app's own windows. */
  trustedWebContents: ReadonlySet<number>;
  /** URL of our page (qzs://app/index.html, electron/main/security.ts; or a dev server origin). */
  appUrl: string;
}

export function isTrustedSender(s: SenderFacts, policy: TrustPolicy): boolean {
  if (!s.isMainFrame || s.frameUrl === null) return false;
  if (!policy.trustedWebContents.has(s.webContentsId)) return false;
  let frame: URL;
  let app: URL;
  try {
    frame = new URL(s.frameUrl);
    app = new URL(policy.appUrl);
  } catch {
    return false;
  }
  if (frame.protocol !== app.protocol) return false;
  if (app.protocol === 'file:') return frame.pathname === app.pathname;
  // The URL parser gives a custom scheme (our qzs://app) the opaque origin "null", the same for every
  // host: compare the host itself (with the port, for a dev server), after the scheme above.
  return frame.host === app.host;
}
