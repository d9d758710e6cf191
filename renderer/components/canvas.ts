// The 2D context of a canvas drawn at device resolution, shared by the maps.

/**
 * Size the canvas's backing store to `width` × `height` CSS pixels at the device pixel ratio and return its
 * context with that ratio. Assigning width or height reallocates and clears the canvas even when the value
 * is unchanged, so only a resize assigns.
 */
export function sizedContext(c: HTMLCanvasElement, width: number, height: number): { ctx: CanvasRenderingContext2D; dpr: number } | null {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.round(width * dpr);
  const h = Math.round(height * dpr);
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  const ctx = c.getContext('2d');
  return ctx ? { ctx, dpr } : null;
}
