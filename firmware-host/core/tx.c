/*
 * The frames the board sends: ACK, IDENTIFY, TELEMETRY (docs/protocol.md, "Messages";
 * EVENT is events.c's). Every one goes out through mod_send.
 */
#include "board_internal.h"

void mod_send(mod_t *m, const uint8_t *payload, uint8_t n) {
  uint8_t f[MOD_FRAME_MAX_LEN];
  uint8_t len = mod_frame_encode(f, m->tx_seq++, payload, n);
  if (m->tx) m->tx(f, len);
}

void mod_send_ack(mod_t *m, uint8_t seq, uint8_t status) {
  uint8_t p[MOD_ACK_LEN];
  p[0] = MOD_MSG_ACK;
  p[MOD_ACK_ACK_SEQ] = seq;
  p[MOD_ACK_STATUS] = status;
  mod_put32(&p[MOD_ACK_BOARD_MS], m->now);
  mod_send(m, p, sizeof p);
}

void mod_send_identify(mod_t *m) {
  uint8_t p[MOD_IDENTIFY_LEN];
  p[0] = MOD_MSG_IDENTIFY;
  p[MOD_IDENTIFY_PROTOCOL_VERSION] = MOD_PROTOCOL_VERSION;
  p[MOD_IDENTIFY_FW_MAJOR] = MOD_FW_MAJOR;
  p[MOD_IDENTIFY_FW_MINOR] = MOD_FW_MINOR;
  p[MOD_IDENTIFY_FW_PATCH] = MOD_FW_PATCH;
  p[MOD_IDENTIFY_BOARD_KIND] = m->board_kind;
  p[MOD_IDENTIFY_TENS_CHANNELS] = m->tens_channels;
  p[MOD_IDENTIFY_HAS_ULTRASOUND] = m->has_us;
  p[MOD_IDENTIFY_HAS_PAD] = m->has_pad;
  mod_put16(&p[MOD_IDENTIFY_MAX_TENS_MA_X10], m->max_tens_x10);
  mod_put16(&p[MOD_IDENTIFY_MAX_TENS_SLEW_MA_PER_SX10], (uint16_t)TENS_SLEW_X10_PER_S);
  mod_put16(&p[MOD_IDENTIFY_MAX_US_WPER_CM2_X100], US_MAX_X100);
  mod_put16(&p[MOD_IDENTIFY_MAX_PAD_CX10], PAD_MAX_X10);
  mod_put16(&p[MOD_IDENTIFY_MIN_PAD_CX10], PAD_MIN_X10);
  mod_put16(&p[MOD_IDENTIFY_LEASE_MS], m->lease_ms);
  mod_put32(&p[MOD_IDENTIFY_BOARD_MS], m->now);
  mod_send(m, p, sizeof p);
}

void mod_send_telemetry(mod_t *m) {
  uint8_t p[MOD_TELEMETRY_LEN];
  uint16_t of = 0;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++)
    if (m->out_faults[o]) of |= (uint16_t)(1u << (4 * o));
  p[0] = MOD_MSG_TELEMETRY;
  mod_put32(&p[MOD_TELEMETRY_BOARD_MS], m->now);
  mod_put16(&p[MOD_TELEMETRY_TENS1_X10], m->out.tens_x10[0]);
  mod_put16(&p[MOD_TELEMETRY_TENS2_X10], m->out.tens_x10[1]);
  mod_put16(&p[MOD_TELEMETRY_US_X100], m->out.us_x100);
  mod_put16(&p[MOD_TELEMETRY_PAD_TARGET_CX10], m->ch[MOD_OUTPUT_PAD].value);
  mod_put16(&p[MOD_TELEMETRY_PAD_CX10], (uint16_t)m->in.pad_cx10);
  mod_put16(&p[MOD_TELEMETRY_HEAD_CX10], (uint16_t)m->in.head_cx10);
  mod_put16(&p[MOD_TELEMETRY_TENS1_OHM], m->in.tens_ohm[0]);
  mod_put16(&p[MOD_TELEMETRY_TENS2_OHM], m->in.tens_ohm[1]);
  p[MOD_TELEMETRY_COUPLED] = m->in.coupled ? 1 : 0;
  p[MOD_TELEMETRY_STOP_INPUT] = m->in.stop ? 1 : 0;
  mod_put16(&p[MOD_TELEMETRY_FAULTS], mod_all_faults(m));
  mod_put16(&p[MOD_TELEMETRY_OUTPUT_FAULTS], of);
  mod_send(m, p, sizeof p);
}

