// The only ipcMain user: every contract channel is registered here, behind the sender check, and goes to
// the shared dispatch (guards, handler, Result). Electron-specific facts are reduced to SenderFacts.
import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { CHANNELS } from '../../shared/contract/channels';
import type { JobProgress } from '../../shared/contract/dto';
import { PROGRESS_EVENT } from '../../shared/contract/menu';
import { dispatch, type HandlerTable } from '../app/handlers';
import { isTrustedSender, type SenderFacts, type TrustPolicy } from '../app/sender';

export function senderFacts(e: IpcMainInvokeEvent): SenderFacts {
  const frame = e.senderFrame;
  return {
    frameUrl: frame ? frame.url : null,
    isMainFrame: !!frame && frame === e.sender.mainFrame,
    webContentsId: e.sender.id,
  };
}

export function setupIpc(table: HandlerTable, policy: TrustPolicy): void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (e, ...args: unknown[]) => {
      if (!isTrustedSender(senderFacts(e), policy)) {
        return { ok: false, error: { code: 'invalid-argument', message: 'request refused: it did not come from the application window' } };
      }
      // A job's progress goes back to the window that asked, and nowhere else.
      const progress = (p: JobProgress): void => {
        if (!e.sender.isDestroyed()) e.sender.send(PROGRESS_EVENT, p);
      };
      return dispatch(table, channel, args, { progress });
    });
  }
}
