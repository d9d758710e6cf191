// A virtualised list over a table that lives in the engine: only the rows on screen exist in the DOM, and
// rows arrive in pages fetched on demand (a few pages cached), so a table of millions of entries scrolls
// like a short one. Keyboard: arrows, Page Up/Down, Home/End move the selection; Enter activates it.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { useElementHeight } from './use-element-height';

const PAGE = 256;
const MAX_PAGES = 16;
/** Browsers cap element heights (~33M px in Chromium); taller lists scroll proportionally. */
const MAX_SCROLL_PX = 8_000_000;

export interface PagedListProps<R> {
  label: string;
  total: number;
  rowHeight?: number;
  /** Changing it drops the cached pages (another table, or the file changed). */
  resetKey: string;
  columns: string;
  header: ReactNode;
  fetchPage(start: number, count: number): Promise<R[] | null>;
  renderRow(row: R, index: number): ReactNode;
  selected: number | null;
  /** The row comes along when its page is loaded. */
  onSelect(index: number, row: R | undefined): void;
  onActivate?(index: number): void;
  /** Bring this index into view when it changes. */
  scrollTo?: { index: number; seq: number } | null;
  testId?: string;
}

export function PagedList<R>(p: PagedListProps<R>) {
  const rowH = p.rowHeight ?? 20;
  const box = useRef<HTMLDivElement>(null);
  const height = useElementHeight(box, 300);
  const [first, setFirst] = useState(0);
  const [pages, setPages] = useState<Map<number, R[]>>(new Map());
  const loading = useRef(new Set<number>());
  const currentKey = useRef(p.resetKey);
  currentKey.current = p.resetKey;
  const rowsVisible = Math.max(1, Math.ceil(height / rowH) + 1);
  const fullPx = p.total * rowH;
  const scrollPx = Math.min(fullPx, MAX_SCROLL_PX);
  const maxFirst = Math.max(0, p.total - rowsVisible + 1);

  useEffect(() => { setPages(new Map()); loading.current.clear(); setFirst(0); if (box.current) box.current.scrollTop = 0; }, [p.resetKey]);

  const scrollToIndex = useCallback((i: number) => {
    const el = box.current;
    if (!el) return;
    const top = Math.min(maxFirst, Math.max(0, i - 2));
    const ratio = maxFirst === 0 ? 0 : top / maxFirst;
    el.scrollTop = Math.round(ratio * Math.max(0, scrollPx - el.clientHeight));
    setFirst(top);
  }, [maxFirst, scrollPx]);

  useEffect(() => { if (p.scrollTo) scrollToIndex(p.scrollTo.index); }, [p.scrollTo, scrollToIndex]);

  const onScroll = (): void => {
    const el = box.current;
    if (!el) return;
    const room = Math.max(1, scrollPx - el.clientHeight);
    setFirst(Math.min(maxFirst, Math.round((el.scrollTop / room) * maxFirst)));
  };

  useEffect(() => {
    const last = Math.min(p.total - 1, first + rowsVisible);
    for (let pg = Math.floor(first / PAGE); pg <= Math.floor(last / PAGE) && last >= 0; pg++) {
      if (pages.has(pg) || loading.current.has(pg)) continue;
      loading.current.add(pg);
      const key = p.resetKey;
      // Whole pages: the engine clamps them to the table, whose size may be known only from this answer.
      void p.fetchPage(pg * PAGE, PAGE).then((rows) => {
        loading.current.delete(pg);
        if (!rows || key !== currentKey.current) return;
        setPages((old) => {
          const next = new Map(old);
          next.set(pg, rows);
          while (next.size > MAX_PAGES) next.delete(next.keys().next().value as number);
          return next;
        });
      });
    }
  }, [first, rowsVisible, pages, p]);

  const move = (to: number): void => {
    const i = Math.min(p.total - 1, Math.max(0, to));
    if (i < 0) return;
    p.onSelect(i, pages.get(Math.floor(i / PAGE))?.[i % PAGE]);
    if (i < first || i >= first + rowsVisible - 2) scrollToIndex(i);
  };
  const onKey = (e: React.KeyboardEvent): void => {
    const cur = p.selected ?? first;
    const page = Math.max(1, rowsVisible - 2);
    const to: Record<string, number> = { ArrowDown: cur + 1, ArrowUp: cur - 1, PageDown: cur + page, PageUp: cur - page, Home: 0, End: p.total - 1 };
    if (e.key in to) { e.preventDefault(); move(to[e.key]); }
    else if (e.key === 'Enter' && p.selected !== null) { e.preventDefault(); p.onActivate?.(p.selected); }
  };

  const rows: ReactNode[] = [];
  for (let i = first; i < Math.min(p.total, first + rowsVisible); i++) {
    const page = pages.get(Math.floor(i / PAGE));
    const row = page?.[i % PAGE];
    rows.push(
      <div key={i} className={'plist-row' + (p.selected === i ? ' selected' : '')} style={{ gridTemplateColumns: p.columns, height: rowH }}
        data-index={i} aria-selected={p.selected === i} role="row" onClick={() => p.onSelect(i, row)} onDoubleClick={() => p.onActivate?.(i)}>
        {row === undefined ? <span className="muted">{i} …</span> : p.renderRow(row, i)}
      </div>,
    );
  }
  // The window of rows rides along the scroll position; the spacer gives the scrollbar its length.
  const offsetPx = maxFirst === 0 ? 0 : (first / maxFirst) * Math.max(0, scrollPx - height);
  return (
    <div className="plist" role="grid" aria-label={p.label} aria-rowcount={p.total} data-testid={p.testId}>
      <div className="plist-head" style={{ gridTemplateColumns: p.columns }} role="row">{p.header}</div>
      <div className="plist-body" ref={box} tabIndex={0} onScroll={onScroll} onKeyDown={onKey}>
        <div style={{ height: scrollPx, position: 'relative' }}>
          <div style={{ position: 'absolute', top: offsetPx, left: 0, right: 0 }}>{rows}</div>
        </div>
      </div>
    </div>
  );
}
