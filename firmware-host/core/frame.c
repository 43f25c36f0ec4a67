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
  switch (id) {
    case MOD_MSG_HELLO: return MOD_HELLO_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_PING: return MOD_PING_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_CONFIG_TENS: return MOD_CONFIG_TENS_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_CONFIG_US: return MOD_CONFIG_US_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_SET: return MOD_SET_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_RAMP: return MOD_RAMP_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_OFF: return MOD_OFF_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_CANCEL: return MOD_CANCEL_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_CLEAR: return MOD_CLEAR_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_ESTOP: return MOD_ESTOP_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_EVENT_ACK: return MOD_EVENT_ACK_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_ACK: return MOD_ACK_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_IDENTIFY: return MOD_IDENTIFY_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_TELEMETRY: return MOD_TELEMETRY_LEN + MOD_FRAME_OVERHEAD;
    case MOD_MSG_EVENT: return MOD_EVENT_LEN + MOD_FRAME_OVERHEAD;
    default: return 0;
  }
}

/* A candidate frame failed: count it, drop its first byte and rescan the rest, so a
 * corrupted length byte costs that frame only, not the heartbeats it would swallow.
 * Mirrors FrameDecoder in src/drivers/wire/frame.ts. Returns 1 if the rescan completed
 * a frame (then any bytes after it are dropped: only possible when a bad frame hid a
 * whole good one). */
static uint8_t rx_error(mod_rx_t *rx, uint8_t crc) {
  if (crc) rx->crc_errors++; else rx->framing_errors++;
  uint8_t rest[MOD_FRAME_MAX_LEN];
  uint8_t k = (uint8_t)(rx->n - 1);
  for (uint8_t i = 0; i < k; i++) rest[i] = rx->buf[i + 1];
  rx->n = 0;
  for (uint8_t i = 0; i < k; i++) if (mod_rx_push(rx, rest[i])) return 1;
  return 0;
}

uint8_t mod_rx_push(mod_rx_t *rx, uint8_t b) {
  rx->buf[rx->n++] = b;
  uint8_t len = rx->buf[0];
  if (rx->n == 1) {
    if (b == MOD_FRAME_SYNC) { rx->n = 0; return 0; } /* filler sync between frames */
    if (len < MOD_FRAME_MIN_LEN || len > MOD_FRAME_MAX_LEN) return rx_error(rx, 0);
    return 0;
  }
  /* each message id has one fixed length: a corrupted length or id is caught after three bytes */
  if (rx->n == 3 && frame_len_of(rx->buf[2]) != len) return rx_error(rx, 0);
  if (rx->n < len) return 0;
  if (rx->buf[len - 1] != MOD_FRAME_SYNC) return rx_error(rx, 0);
  uint16_t crc = mod_get16(&rx->buf[len - 3]);
  if (crc != mod_crc16(rx->buf, (uint8_t)(len - 3), 0xFFFF)) return rx_error(rx, 1);
  rx->n = 0;
  rx->frames++;
  return 1;
}
