// A 2-D grayscale image viewer on a <canvas>: zoom, pan, window/level and invert on
// the image's own pixel values.
import { useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { GrayImage } from './image';

/** Window/level presets, computed from the image's values. */
export const WINDOW_PRESETS = [
  { id: 'auto', label: 'Auto contrast (1st–99th percentile)' },
  { id: 'full', label: 'Full range of the image' },
  { id: 'dark', label: 'Dark values (lower half)' },
  { id: 'bright', label: 'Bright values (upper half)' },
] as const;

export type WindowPresetId = (typeof WINDOW_PRESETS)[number]['id'];

/** Operations the page triggers from its keyboard shortcuts and buttons. */
export interface ViewerHandle {
  zoomBy: (factor: number) => void;
  fit: () => void;
  reset: () => void;
  toggleInvert: () => void;
  toggleWindowMode: () => void;
  applyPreset: (id: WindowPresetId) => void;
}

interface ViewState {
  /** Scale relative to the fitted size (1 fits the image in the canvas). */
  zoom: number;
  /** Offset of the image centre from the canvas centre, in CSS pixels. */
  panX: number;
  panY: number;
  /** Window centre and width, in pixel values. */
  center: number;
  width: number;
  invert: boolean;
}

function presetWindow(image: GrayImage, id: WindowPresetId): { center: number; width: number } {
  const { dataMin, dataMax, low, high } = image;
  const span = Math.max(1, dataMax - dataMin);
  switch (id) {
    case 'full':
      return { center: (dataMin + dataMax) / 2, width: span };
    case 'dark':
      return { center: dataMin + span / 4, width: span / 2 };
    case 'bright':
      return { center: dataMin + (span * 3) / 4, width: span / 2 };
    case 'auto':
    default:
      return { center: (low + high) / 2, width: Math.max(1, high - low) };
  }
}

function initialView(image: GrayImage | null): ViewState {
  const range = image ? presetWindow(image, 'auto') : { center: 128, width: 256 };
  return { zoom: 1, panX: 0, panY: 0, ...range, invert: false };
}

// Builds the value-to-gray lookup table of a window, linear between
// center - width/2 and center + width/2.
function buildLut(maxValue: number, center: number, width: number, invert: boolean): Uint8Array {
  const lut = new Uint8Array(maxValue + 1);
  const low = center - width / 2;
  const scale = 255 / Math.max(1e-6, width);
  for (let value = 0; value <= maxValue; value++) {
    const gray = Math.min(255, Math.max(0, (value - low) * scale));
    lut[value] = invert ? 255 - gray : gray;
  }
  return lut;
}

export function Viewer({
  image,
  handleRef,
  onDrawn,
  label = 'Image viewer',
}: {
  image: GrayImage | null;
  handleRef?: Ref<ViewerHandle>;
  /** Called once after each new image is first drawn. */
  onDrawn?: (image: GrayImage) => void;
  label?: string;
}) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const offscreenRef = useRef<HTMLCanvasElement | null>(null);
  const renderedKey = useRef('');
  const drawnImage = useRef<GrayImage | null>(null);
  const [view, setView] = useState<ViewState>(() => initialView(image));
  const [windowMode, setWindowMode] = useState(false);
  const [canvasSize, setCanvasSize] = useState({ width: 0, height: 0 });
  const drag = useRef<{ x: number; y: number; mode: 'pan' | 'window' } | null>(null);
  const onDrawnRef = useRef(onDrawn);
  onDrawnRef.current = onDrawn;

  // A new image starts from the fitted view and the automatic window.
  useEffect(() => {
    setView(initialView(image));
  }, [image]);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const observer = new ResizeObserver(() => {
      const rect = canvas.getBoundingClientRect();
      setCanvasSize({ width: rect.width, height: rect.height });
    });
    observer.observe(canvas);
    return () => observer.disconnect();
  }, []);

  // Draws the image: the window/level pass into an image-sized offscreen canvas
  // (only when the image or the window changed), then a scaled copy onto the screen.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || canvasSize.width === 0) return;
    const ratio = window.devicePixelRatio || 1;
    const pixelWidth = Math.round(canvasSize.width * ratio);
    const pixelHeight = Math.round(canvasSize.height * ratio);
    if (canvas.width !== pixelWidth) canvas.width = pixelWidth;
    if (canvas.height !== pixelHeight) canvas.height = pixelHeight;
    const context = canvas.getContext('2d');
    if (!context) return;
    context.setTransform(1, 0, 0, 1, 0, 0);
    context.fillStyle = '#000';
    context.fillRect(0, 0, canvas.width, canvas.height);
    if (!image) return;

    const key = `${image.key}|${view.center}|${view.width}|${view.invert}`;
    if (renderedKey.current !== key || !offscreenRef.current) {
      const offscreen = offscreenRef.current ?? document.createElement('canvas');
      offscreenRef.current = offscreen;
      offscreen.width = image.width;
      offscreen.height = image.height;
      const offContext = offscreen.getContext('2d');
      if (!offContext) return;
      const lut = buildLut(image.maxValue, view.center, view.width, view.invert);
      const output = offContext.createImageData(image.width, image.height);
      const rgba = new Uint32Array(output.data.buffer);
      const pixels = image.pixels;
      // Little-endian RGBA packed into one 32-bit word: alpha in the top byte.
      for (let i = 0; i < pixels.length; i++) {
        const gray = lut[pixels[i]];
        rgba[i] = 0xff000000 | (gray << 16) | (gray << 8) | gray;
      }
      offContext.putImageData(output, 0, 0);
      renderedKey.current = key;
    }

    const fitScale = Math.min(canvasSize.width / image.width, canvasSize.height / image.height);
    const scale = fitScale * view.zoom * ratio;
    const x = (canvasSize.width / 2 + view.panX) * ratio - (image.width * scale) / 2;
    const y = (canvasSize.height / 2 + view.panY) * ratio - (image.height * scale) / 2;
    context.imageSmoothingEnabled = scale < 2;
    context.drawImage(offscreenRef.current, x, y, image.width * scale, image.height * scale);

    if (drawnImage.current !== image) {
      drawnImage.current = image;
      onDrawnRef.current?.(image);
    }
  }, [image, view, canvasSize]);

  const zoomAt = useCallback(
    (factor: number, screenX?: number, screenY?: number) => {
      setView((current) => {
        const zoom = Math.min(40, Math.max(0.1, current.zoom * factor));
        const applied = zoom / current.zoom;
        // Keeps the point under the cursor in place: offsets from the canvas centre
        // scale with the zoom.
        const dx = screenX === undefined ? 0 : screenX - canvasSize.width / 2;
        const dy = screenY === undefined ? 0 : screenY - canvasSize.height / 2;
        return {
          ...current,
          zoom,
          panX: dx - (dx - current.panX) * applied,
          panY: dy - (dy - current.panY) * applied,
        };
      });
    },
    [canvasSize],
  );

  useImperativeHandle(
    handleRef,
    () => ({
      zoomBy: (factor) => zoomAt(factor),
      fit: () => setView((current) => ({ ...current, zoom: 1, panX: 0, panY: 0 })),
      reset: () => setView(initialView(image)),
      toggleInvert: () => setView((current) => ({ ...current, invert: !current.invert })),
      toggleWindowMode: () => setWindowMode((current) => !current),
      applyPreset: (id) => {
        if (image) setView((current) => ({ ...current, ...presetWindow(image, id) }));
      },
    }),
    [zoomAt, image],
  );

  // The wheel listener is registered by hand because React's is passive, so it could
  // not stop the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [zoomAt]);

  const onPointerDown = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const mode = event.button === 2 || windowMode ? 'window' : 'pan';
    drag.current = { x: event.clientX, y: event.clientY, mode };
    event.currentTarget.setPointerCapture(event.pointerId);
  };

  const onPointerMove = (event: React.PointerEvent<HTMLCanvasElement>) => {
    const start = drag.current;
    if (!start || !image) return;
    const dx = event.clientX - start.x;
    const dy = event.clientY - start.y;
    start.x = event.clientX;
    start.y = event.clientY;
    if (start.mode === 'pan') {
      setView((current) => ({ ...current, panX: current.panX + dx, panY: current.panY + dy }));
      return;
    }
    // Dragging right widens the window, dragging down raises the centre; a drag
    // across the canvas spans the image's value range.
    const step = Math.max(1, image.dataMax - image.dataMin) / Math.max(1, canvasSize.width);
    setView((current) => ({
      ...current,
      width: Math.max(1, current.width + dx * step),
      center: current.center + dy * step,
    }));
  };

  const onPointerUp = (event: React.PointerEvent<HTMLCanvasElement>) => {
    drag.current = null;
    if (event.currentTarget.hasPointerCapture(event.pointerId)) {
      event.currentTarget.releasePointerCapture(event.pointerId);
    }
  };

  return (
    <div className="viewer-stage">
      <canvas
        ref={canvasRef}
        data-testid="viewer-canvas"
        role="img"
        aria-label={image ? `${label}: ${image.sourceLabel}` : `${label}: no image`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerUp}
        onContextMenu={(event) => event.preventDefault()}
      />
      {image ? (
        <div className="viewer-overlay" aria-live="off">
          <div>{image.sourceLabel}</div>
          <div>
            W {Math.round(view.width)} L {Math.round(view.center)}
            {view.invert ? ' · inverted' : ''} · zoom {Math.round(view.zoom * 100)}%
          </div>
          {windowMode ? <div>Window/level mode: drag to change</div> : null}
        </div>
      ) : null}
    </div>
  );
}
