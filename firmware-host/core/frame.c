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

/* Every message has one fixed frame length; 0 for an unknown id, which is a framing error
 * (waiting for an unknown id's "length" would swallow the heartbeats behind it). */
static uint8_t frame_len_of(uint8_t id) {
  switch (id) { /* from the lists of wire_spec.h (spec.ts), both directions */
#define FRAME_LEN(name, id_, len) case id_: return (len) + MOD_FRAME_OVERHEAD;
    MOD_HOST_MESSAGES(FRAME_LEN)
    MOD_BOARD_MESSAGES(FRAME_LEN)
#undef FRAME_LEN
    default: return 0;
  }
}

/* One byte into the candidate; returns 1 on a complete, checked frame, 0 while more is
 * needed, and 2 when the candidate failed (counted; the caller rescans). */
static uint8_t rx_step(mod_rx_t *rx, uint8_t b) {
  rx->buf[rx->n++] = b; /* n <= the read position: in place */
  uint8_t len = rx->buf[0];
  if (rx->n == 1) {
    if (b == MOD_FRAME_SYNC) { rx->n = 0; return 0; } /* filler sync between frames */
    if (len < MOD_FRAME_MIN_LEN || len > MOD_FRAME_MAX_LEN) { rx->framing_errors++; return 2; }
    return 0;
  }
  /* each message id has one fixed length: a corrupted length or id is caught after three bytes */
  if (rx->n == 3 && frame_len_of(rx->buf[2]) != len) { rx->framing_errors++; return 2; }
  if (rx->n < len) return 0;
  if (rx->buf[len - 1] != MOD_FRAME_SYNC) { rx->framing_errors++; return 2; }
  uint16_t crc = mod_get16(&rx->buf[len - 3]);
  if (crc != mod_crc16(rx->buf, (uint8_t)(len - 3), 0xFFFF)) { rx->crc_errors++; return 2; }
  rx->frames++;
  return 1;
}

/* The scan: bytes buf[r..end) into the candidate buf[0..n), always with n <= r, so the
 * candidate is rebuilt in place. A failed candidate costs its first byte only: its other
 * bytes and the rest are scanned again (so a corrupted length byte does not swallow the
 * heartbeats behind it, as FrameDecoder in src/drivers/wire/frame.ts), in a loop with no
 * recursion and no second buffer. When a frame completes, the bytes still behind it are
 * kept right after it (buf[len..pend_end)) for mod_rx_resume() and the next push. */
static uint8_t scan(mod_rx_t *rx, uint8_t r, uint8_t end) {
  while (r < end) {
    uint8_t st = rx_step(rx, rx->buf[r++]);
    if (st == 0) continue;
    uint8_t rem = (uint8_t)(end - r);
    if (st == 1) {
      uint8_t len = rx->n;
      for (uint8_t i = 0; i < rem; i++) rx->buf[len + i] = rx->buf[r + i];
      rx->pend_end = rem ? (uint8_t)(len + rem) : 0;
      rx->n = 0;
      return 1;
    }
    /* failed: rescan candidate[1..n) followed by buf[r..end) */
    for (uint8_t i = 0; i < rem; i++) rx->buf[rx->n + i] = rx->buf[r + i];
    end = (uint8_t)(rx->n + rem);
    r = 1;
    rx->n = 0;
  }
  return 0;
}

/* Bytes left behind the frame handed out last move to the front, ready to scan. */
static uint8_t take_pending(mod_rx_t *rx) {
  uint8_t len = rx->buf[0], k = (uint8_t)(rx->pend_end - len);
  for (uint8_t i = 0; i < k; i++) rx->buf[i] = rx->buf[len + i];
  rx->pend_end = 0;
  return k;
}

uint8_t mod_rx_resume(mod_rx_t *rx) {
  if (!rx->pend_end) return 0;
  return scan(rx, 0, take_pending(rx));
}

uint8_t mod_rx_push(mod_rx_t *rx, uint8_t b) {
  if (rx->pend_end) {
    uint8_t k = take_pending(rx);
    rx->buf[k] = b;
    return scan(rx, 0, (uint8_t)(k + 1));
  }
  rx->buf[rx->n] = b;
  return scan(rx, rx->n, (uint8_t)(rx->n + 1));
}
