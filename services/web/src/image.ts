// Loading of instance images for the viewer: the full-bit-depth prepared array (.npy)
// when there is one, else the 8-bit PNG rendering.
import { fetchBlob, type Instance } from './api';

/** A grayscale image ready for window/level: one value per pixel, row-major. */
export interface GrayImage {
  /** Cache and identity key, normally the instance name. */
  key: string;
  width: number;
  height: number;
  pixels: Uint8Array | Uint16Array;
  /** Largest value the pixel type can hold: 255 or 65535. */
  maxValue: number;
  /** Smallest and largest value present. */
  dataMin: number;
  dataMax: number;
  /** Values at the 1st and 99th percentile, for the automatic contrast preset. */
  low: number;
  high: number;
  /** Source of the pixels, shown in the viewer: "array <u2 128×128" or "PNG 512×512". */
  sourceLabel: string;
}

/** Shape, dtype and data offset of a .npy file. */
export interface NpyHeader {
  dtype: string;
  shape: number[];
  fortranOrder: boolean;
  dataOffset: number;
}

/**
 * Parses the header of a NumPy .npy file (format versions 1 to 3): the magic
 * "\x93NUMPY", two version bytes, the header length (2 bytes in version 1, else 4,
 * little-endian) and a Python dict literal with descr, fortran_order and shape.
 */
export function parseNpyHeader(buffer: ArrayBuffer): NpyHeader {
  const bytes = new Uint8Array(buffer);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((value, index) => bytes[index] !== value)) {
    throw new Error('the array blob is not a .npy file (the magic bytes are missing)');
  }
  const major = bytes[6];
  const view = new DataView(buffer);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) {
    throw new Error(`the .npy header claims ${headerLength} bytes but the file is shorter`);
  }
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, dataOffset));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new Error(`the .npy header is invalid: ${header.trim()}`);
  }
  const dims = shape[1]
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => Number.parseInt(part, 10));
  return { dtype: descr[1], shape: dims, fortranOrder: fortran[1] === 'True', dataOffset };
}

// Returns [height, width] of a 2-D image shape, ignoring dimensions of size 1, so
// (1, H, W) and (H, W, 1) work too.
function imageSize(shape: number[]): [number, number] {
  const dims = shape.filter((dim) => dim !== 1);
  if (dims.length === 0 && shape.length > 0) return [1, 1];
  if (dims.length !== 2) {
    throw new Error(`the array has shape (${shape.join(', ')}); the viewer shows 2-D images only`);
  }
  return [dims[0], dims[1]];
}

/** Decodes a .npy array of dtype "<u2" or "<f4" (values 0 to 1) into 16-bit pixels. */
export function decodeNpy(buffer: ArrayBuffer, key: string): GrayImage {
  const header = parseNpyHeader(buffer);
  if (header.fortranOrder) {
    throw new Error('the array is in Fortran order; the viewer reads C order only');
  }
  const [height, width] = imageSize(header.shape);
  const count = width * height;
  let pixels: Uint16Array;
  if (header.dtype === '<u2') {
    if (header.dataOffset + count * 2 > buffer.byteLength) {
      throw new Error('the array blob is shorter than its shape needs');
    }
    // The .npy header is padded so the data starts at a multiple of 64 bytes, which
    // keeps the typed array aligned.
    pixels = new Uint16Array(buffer, header.dataOffset, count);
  } else if (header.dtype === '<f4') {
    if (header.dataOffset + count * 4 > buffer.byteLength) {
      throw new Error('the array blob is shorter than its shape needs');
    }
    const floats = new Float32Array(buffer.slice(header.dataOffset, header.dataOffset + count * 4));
    pixels = new Uint16Array(count);
    for (let i = 0; i < count; i++) {
      pixels[i] = Math.round(Math.min(1, Math.max(0, floats[i])) * 65535);
    }
  } else {
    throw new Error(`the array has dtype ${header.dtype}; the viewer reads <u2 and <f4`);
  }
  return describe(key, width, height, pixels, 65535, `array ${header.dtype} ${width}×${height}`);
}

/** Decodes a PNG (or any browser-readable image) into 8-bit gray pixels (red channel). */
export async function decodePng(blob: Blob, key: string): Promise<GrayImage> {
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('the browser has no 2-D canvas');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const count = canvas.width * canvas.height;
  const pixels = new Uint8Array(count);
  for (let i = 0; i < count; i++) pixels[i] = rgba[i * 4];
  return describe(key, canvas.width, canvas.height, pixels, 255, `PNG ${canvas.width}×${canvas.height}`);
}

// Computes the value range and the 1st/99th percentiles from a histogram.
function describe(
  key: string,
  width: number,
  height: number,
  pixels: Uint8Array | Uint16Array,
  maxValue: number,
  sourceLabel: string,
): GrayImage {
  const histogram = new Uint32Array(maxValue + 1);
  for (let i = 0; i < pixels.length; i++) histogram[pixels[i]]++;
  let dataMin = 0;
  while (dataMin < maxValue && histogram[dataMin] === 0) dataMin++;
  let dataMax = maxValue;
  while (dataMax > 0 && histogram[dataMax] === 0) dataMax--;
  const percentile = (fraction: number) => {
    const target = fraction * pixels.length;
    let seen = 0;
    for (let value = 0; value <= maxValue; value++) {
      seen += histogram[value];
      if (seen >= target) return value;
    }
    return maxValue;
  };
  let low = percentile(0.01);
  let high = percentile(0.99);
  if (high <= low) {
    low = dataMin;
    high = Math.max(dataMax, dataMin + 1);
  }
  return { key, width, height, pixels, maxValue, dataMin, dataMax, low, high, sourceLabel };
}

/**
 * Loads the best image of an instance: the "<u2" or "<f4" array, so window/level acts
 * on real values, else the 8-bit PNG. Rejects when the instance has neither.
 */
export async function loadInstanceImage(instance: Instance, signal?: AbortSignal): Promise<GrayImage> {
  const dtype = instance.arrayDtype ?? '';
  if (instance.arrayBlob && (dtype === '<u2' || dtype === '<f4')) {
    try {
      const blob = await fetchBlob(instance.arrayBlob, signal);
      return decodeNpy(await blob.arrayBuffer(), instance.name);
    } catch (error) {
      if (signal?.aborted || !instance.pngBlob) throw error;
      console.warn(`array of ${instance.name} unreadable, showing the PNG instead`, error);
    }
  }
  if (instance.pngBlob) {
    const blob = await fetchBlob(instance.pngBlob, signal);
    return decodePng(blob, instance.name);
  }
  throw new Error(
    `instance ${instance.name} has no prepared image yet; run a preparation on the Data page`,
  );
}
