// The editing gate in controls: a control that changes the image is disabled while editing is off, with
// the reason as its tooltip (a refusal that still comes back is shown by ErrorMessage as GateRefusal).
import { EDITING_OFF } from '../gate';
import { useStore } from '../store';

/** `ownTitle` is the control's tooltip when editing is on. */
export function useGate(ownTitle?: string): { off: boolean; title: string | undefined } {
  const editing = useStore((st) => !!st.summary?.session.editing);
  return editing ? { off: false, title: ownTitle } : { off: true, title: EDITING_OFF };
}
