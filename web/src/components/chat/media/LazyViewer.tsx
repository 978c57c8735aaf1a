/** Loads the photo viewer on first use (it is not part of the initial bundle). */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ViewerProps } from '../../../media/types';

let loaded: ComponentType<ViewerProps> | null = null;

export function LazyViewer(props: ViewerProps) {
  const [View, setView] = useState(() => loaded);
  useEffect(() => {
    if (!View)
      void import('./PhotoViewer').then((m) => {
        loaded = m.PhotoViewer;
        setView(() => m.PhotoViewer);
      });
  }, []);
  return View ? <View {...props} /> : null;
}
