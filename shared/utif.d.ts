/** The part of UTIF.js (npm "utif") that Mien uses. */
export interface Ifd {
  width: number;
  height: number;
  [tag: string]: unknown;
}
declare const UTIF: {
  decode(buffer: ArrayBuffer): Ifd[];
  decodeImage(buffer: ArrayBuffer, ifd: Ifd): void;
  toRGBA8(ifd: Ifd): Uint8Array;
  encodeImage(rgba: ArrayLike<number>, width: number, height: number): ArrayBuffer;
};
export default UTIF;
