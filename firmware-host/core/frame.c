/* CRC-16/CCITT-FALSE and framing: <len><seq><payload><crc16 LE><0x7E>. */
#include "modality.h"

uint16_t mod_crc16(const uint8_t *p, uint8_t n, uint16_t crc) {
  while (n--) {
    crc ^= (uint16_t)(*p++) << 8;
    for (uint8_t b = 0; b < 8; b++) crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
  }
  return crc;
}

uint8_t mod_frame_encode(uint8_t *out, uint8_t seq, const uint8_t *payload, uint8_t n) {
  uint8_t len = (uint8_t)(n + MOD_FRAME_OVERHEAD);
  out[0] = len;
  out[1] = seq;
  for (uint8_t i = 0; i < n; i++) out[2 + i] = payload[i];
  uint16_t crc = mod_crc16(out, (uint8_t)(len - 3), 0xFFFF);
  out[len - 3] = (uint8_t)crc;
  out[len - 2] = (uint8_t)(crc >> 8);
  out[len - 1] = MOD_FRAME_SYNC;
  return len;
}

/* Drop the bad frame; if its last byte was a sync the next byte starts a frame,
 * otherwise hunt for the next sync (as Klipper does). Mirrors FrameDecoder in frame.ts. */
static void rx_error(mod_rx_t *rx, uint8_t crc) {
  if (crc) rx->crc_errors++; else rx->framing_errors++;
  rx->hunting = rx->buf[rx->n - 1] != MOD_FRAME_SYNC;
  rx->n = 0;
}

uint8_t mod_rx_push(mod_rx_t *rx, uint8_t b) {
  if (rx->hunting) {
    if (b == MOD_FRAME_SYNC) rx->hunting = 0;
    return 0;
  }
  rx->buf[rx->n++] = b;
  uint8_t len = rx->buf[0];
  if (len < MOD_FRAME_MIN_LEN || len > MOD_FRAME_MAX_LEN) {
    if (rx->n == 1 && b == MOD_FRAME_SYNC) rx->n = 0; /* filler sync between frames */
    else rx_error(rx, 0);
    return 0;
  }
  if (rx->n < len) return 0;
  if (rx->buf[len - 1] != MOD_FRAME_SYNC) { rx_error(rx, 0); return 0; }
  uint16_t crc = mod_get16(&rx->buf[len - 3]);
  if (crc != mod_crc16(rx->buf, (uint8_t)(len - 3), 0xFFFF)) { rx_error(rx, 1); return 0; }
  rx->n = 0;
  rx->frames++;
  return 1;
}
