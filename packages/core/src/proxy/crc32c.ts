/**
 * CRC32c (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the PROXY v2 CRC32c TLV
 * (RFC 4960 Appendix B). Table-driven, one byte at a time: headers are a few hundred bytes.
 * @module
 */

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC32c of `bytes`, treating the `skipLength` bytes at `skipAt` as zeros (the checksum field
 * itself, zeroed by the sender before computing).
 */
export function crc32c(bytes: Uint8Array, skipAt = -1, skipLength = 0): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    const byte = i >= skipAt && i < skipAt + skipLength ? 0 : (bytes[i] as number);
    crc = (TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
