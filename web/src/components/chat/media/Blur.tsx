/**
 * A picture at its final size at once: the BlurHash placeholder painted on a small canvas,
 * then the image fading in over it when it has loaded. An expired signed URL is renewed
 * once (`GET /attachments/:id`).
 */
import { decode } from 'blurhash';
import { useEffect, useRef, useState } from 'preact/hooks';
import { useFreshAttachment } from '../../../media/fresh';
import type { AttachmentOut } from '../../../media/types';

export function BlurHash({ hash }: { hash: string | null | undefined }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !hash) return;
    try {
      const px = decode(hash, 32, 32);
      const ctx = c.getContext('2d');
      if (!ctx) return;
      const img = ctx.createImageData(32, 32);
      img.data.set(px);
      ctx.putImageData(img, 0, 0);
    } catch {
      /* a malformed hash: the plain background stays */
    }
  }, [hash]);
  return <canvas ref={ref} class="blurhash" width={32} height={32} aria-hidden="true" />;
}

/** The thumbnail (or `which`) of an attachment over its BlurHash. */
export function BlurImage({
  att,
  which = 'thumbnailUrl',
  alt,
}: {
  att: AttachmentOut;
  which?: 'thumbnailUrl' | 'previewUrl' | 'url';
  alt: string;
}) {
  const [fresh, renew] = useFreshAttachment(att);
  const [loaded, setLoaded] = useState(false);
  const src = fresh[which] || fresh.thumbnailUrl || fresh.url;
  return (
    <span class={`blur-image ${loaded ? 'is-loaded' : ''}`}>
      <BlurHash hash={att.blurhash} />
      {src && (
        <img
          src={src}
          alt={alt}
          decoding="async"
          loading="lazy"
          draggable={false}
          onLoad={() => setLoaded(true)}
          onError={renew}
        />
      )}
    </span>
  );
}
