/*
 * Unit tests of the portable core, built with the host gcc:
 *   make -C firmware-host host-test
 * A tiny assert harness: every CHECK counts; the exit status is the number of failures.
 */
#include <stdio.h>
#include <string.h>
#include "../core/modality.h"

static int checks, failures;
#define CHECK(cond) do { checks++; if (!(cond)) { failures++; \
  fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, current, #cond); } } while (0)
#define CHECK_EQ(a, b) do { long _a = (long)(a), _b = (long)(b); checks++; if (_a != _b) { failures++; \
  fprintf(stderr, "%s:%d: %s: %s == %ld, expected %s == %ld\n", __FILE__, __LINE__, current, #a, _a, #b, _b); } } while (0)
static const char *current = "";

/* ---- a host side: frames the board sent, decoded ---- */
typedef struct { uint8_t seq, n; uint8_t p[MOD_FRAME_MAX_LEN]; } frame_t;
#define MAXF 65536
static frame_t F[MAXF];
static int NF;
static mod_rx_t dec;
static mod_t B;
static mod_inputs_t IN;
static uint32_t NOW;
static uint8_t hseq;

/* Every frame the board sends, in every test, against spec.ts (the X-macro lists of
 * wire_spec.h): a board -> host message of its length; an EVENT of a known kind, and a
 * FAULT_LATCHED of a known fault code. off_spec counts the ones that are not. */
static long sent_frames, off_spec;
static int spec_len(uint8_t id) {
#define LEN(name, id_, len) if (id == (id_)) return (len);
  MOD_BOARD_MESSAGES(LEN)
#undef LEN
  return -1;
}
static int known_kind(uint8_t k) {
#define KIND(name, v) if (k == (v)) return 1;
  MOD_EVENT_KINDS(KIND)
#undef KIND
  return 0;
}
static int known_fault(uint8_t c) {
#define FAULT(name, v) if (c == (v)) return 1;
  MOD_FAULTS(FAULT)
#undef FAULT
  return 0;
}
static void check_sent(const frame_t *f) {
  sent_frames++;
  if (spec_len(f->p[0]) != f->n) { off_spec++; return; }
  if (f->p[0] != MOD_MSG_EVENT) return;
  if (!known_kind(f->p[MOD_EVENT_KIND])) off_spec++;
  else if (f->p[MOD_EVENT_KIND] == MOD_EVENT_FAULT_LATCHED && !known_fault(f->p[MOD_EVENT_CODE])) off_spec++;
}

static void tx(const uint8_t *b, uint8_t n) {
  for (uint8_t i = 0; i < n; i++)
    if (mod_rx_push(&dec, b[i]) && NF < MAXF) {
      frame_t *f = &F[NF++];
      f->seq = dec.buf[1];
      f->n = (uint8_t)(dec.buf[0] - MOD_FRAME_OVERHEAD);
      memcpy(f->p, &dec.buf[2], f->n);
      check_sent(f);
    }
}

static void reset(const char *name) {
  current = name;
  memset(&dec, 0, sizeof dec);
  NF = 0; NOW = 1000; hseq = 0;
  mod_init(&B, tx);
  IN.pad_cx10 = 250; IN.head_cx10 = 250; IN.tens_ohm[0] = IN.tens_ohm[1] = 1000; IN.coupled = 1; IN.stop = 0;
  mod_tick(&B, NOW, &IN);
}

static void feed(const uint8_t *b, int n) { for (int i = 0; i < n; i++) mod_rx_byte(&B, b[i]); }

/* send a payload in a frame with the next host seq; returns the ACK status (or -1) */
static int send_seq(uint8_t seq, const uint8_t *p, uint8_t n) {
  uint8_t f[MOD_FRAME_MAX_LEN];
  uint8_t len = mod_frame_encode(f, seq, p, n);
  int before = NF;
  feed(f, len);
  for (int i = before; i < NF; i++)
    if (F[i].p[0] == MOD_MSG_ACK && F[i].p[MOD_ACK_ACK_SEQ] == seq) return F[i].p[MOD_ACK_STATUS];
  return -1;
}
static int req(const uint8_t *p, uint8_t n) { return send_seq(hseq++, p, n); }

static void tick(uint32_t ms) { for (uint32_t i = 0; i < ms; i++) mod_tick(&B, ++NOW, &IN); }
static int ping(void) { uint8_t p[] = {MOD_MSG_PING}; return req(p, 1); }
/* advance while keeping the lease alive */
static void run(uint32_t ms) {
  while (ms) { uint32_t s = ms > 100 ? 100 : ms; tick(s); ms -= s; ping(); }
}

static int hello(uint16_t lease) { uint8_t p[4] = {MOD_MSG_HELLO, 1}; mod_put16(&p[2], lease); return req(p, 4); }
static int set(uint8_t o, uint32_t at, uint16_t v) {
  uint8_t p[MOD_SET_LEN] = {MOD_MSG_SET, o}; mod_put32(&p[2], at); mod_put16(&p[6], v); return req(p, sizeof p);
}
static int ramp(uint8_t o, uint32_t at, uint16_t from, uint16_t to, uint32_t dur) {
  uint8_t p[MOD_RAMP_LEN] = {MOD_MSG_RAMP, o};
  mod_put32(&p[MOD_RAMP_AT_MS], at); mod_put16(&p[MOD_RAMP_FROM], from); mod_put16(&p[MOD_RAMP_TO], to);
  mod_put32(&p[MOD_RAMP_DURATION_MS], dur);
  return req(p, sizeof p);
}
static int off(uint8_t o, uint32_t at) { uint8_t p[MOD_OFF_LEN] = {MOD_MSG_OFF, o}; mod_put32(&p[2], at); return req(p, sizeof p); }
static int clear(uint8_t o) { uint8_t p[] = {MOD_MSG_CLEAR, o}; return req(p, 2); }
static int config_tens(uint8_t o, uint16_t rate, uint16_t pw, uint16_t area_x10) {
  uint8_t p[MOD_CONFIG_TENS_LEN] = {MOD_MSG_CONFIG_TENS, o};
  mod_put16(&p[MOD_CONFIG_TENS_RATE_HZ], rate); mod_put16(&p[MOD_CONFIG_TENS_PULSE_WIDTH_US], pw);
  mod_put16(&p[MOD_CONFIG_TENS_ELECTRODE_AREA_CM2X10], area_x10);
  return req(p, sizeof p);
}
static void session(void) { CHECK_EQ(hello(400), MOD_STATUS_OK); }

/* the last EVENT of a kind (and output, 0xFE = any) since frame index `from`; NULL if none */
static const frame_t *event(int from, uint8_t kind, uint8_t output) {
  const frame_t *hit = NULL;
  for (int i = from; i < NF; i++)
    if (F[i].p[0] == MOD_MSG_EVENT && F[i].p[MOD_EVENT_KIND] == kind &&
        (output == 0xFE || F[i].p[MOD_EVENT_OUTPUT] == output)) hit = &F[i];
  return hit;
}
static uint32_t ev_ms(const frame_t *f) { return mod_get32(&f->p[MOD_EVENT_BOARD_MS]); }
static uint16_t faults_bit(uint8_t code) { return (uint16_t)(1u << (code - 1)); }

/* ---------------------------------------------------------------- tests */

static void test_crc_and_framing(void) {
  reset("crc/framing");
  CHECK_EQ(mod_crc16((const uint8_t *)"123456789", 9, 0xFFFF), 0x29B1);
  /* docs/protocol.md: HELLO v1 lease 400, seq 0 */
  uint8_t hello_p[] = {0x01, 0x01, 0x90, 0x01}, f[16];
  uint8_t want[] = {0x09, 0x00, 0x01, 0x01, 0x90, 0x01, 0xbc, 0x0f, 0x7e};
  CHECK_EQ(mod_frame_encode(f, 0, hello_p, 4), 9);
  CHECK(memcmp(f, want, 9) == 0);
  /* the SET example whose CRC high byte is 0x7E decodes (len, not sync, ends a frame) */
  uint8_t setf[] = {0x0d, 0x06, 0x10, 0x02, 0x18, 0x79, 0x00, 0x00, 0x96, 0x00, 0xac, 0x7e, 0x7e};
  mod_rx_t rx; memset(&rx, 0, sizeof rx);
  int got = 0;
  for (unsigned i = 0; i < sizeof setf; i++) got += mod_rx_push(&rx, setf[i]);
  CHECK_EQ(got, 1);
  CHECK_EQ(rx.buf[1], 6);
  /* a bad CRC is dropped and counted; the next good frame still decodes */
  memset(&rx, 0, sizeof rx);
  uint8_t bad[9]; memcpy(bad, want, 9); bad[4] ^= 0x01;
  got = 0;
  for (int i = 0; i < 9; i++) got += mod_rx_push(&rx, bad[i]);
  for (int i = 0; i < 9; i++) got += mod_rx_push(&rx, want[i]);
  CHECK_EQ(got, 1);
  CHECK_EQ(rx.crc_errors, 1);
  /* garbage then a frame: resync on the sync byte */
  memset(&rx, 0, sizeof rx);
  uint8_t junk[] = {0x03, 0x99, 0x7e};
  got = 0;
  for (int i = 0; i < 3; i++) got += mod_rx_push(&rx, junk[i]);
  for (int i = 0; i < 9; i++) got += mod_rx_push(&rx, want[i]);
  CHECK_EQ(got, 1);
  CHECK(rx.framing_errors >= 1);
  /* a corrupted length byte swallows nothing: the PING right after it still decodes */
  memset(&rx, 0, sizeof rx);
  uint8_t ping_p[] = {MOD_MSG_PING}, ping[8];
  uint8_t plen = mod_frame_encode(ping, 5, ping_p, 1);
  uint8_t badlen[9]; memcpy(badlen, want, 9); badlen[0] = 60;
  got = 0;
  for (int i = 0; i < 9; i++) got += mod_rx_push(&rx, badlen[i]);
  for (int i = 0; i < plen; i++) got += mod_rx_push(&rx, ping[i]);
  CHECK_EQ(got, 1);
  CHECK_EQ(rx.buf[1], 5);
  /* a truncated frame followed by two valid frames: both are found (the second one sits
   * behind the first in the rescanned bytes, and mod_rx_resume hands it out) */
  memset(&rx, 0, sizeof rx);
  uint8_t ping2[8], stream[64], sn = 0, seqs[4], ns = 0;
  uint8_t p2len = mod_frame_encode(ping2, 6, ping_p, 1);
  for (int i = 0; i < 5; i++) stream[sn++] = want[i];        /* HELLO cut after 5 of 9 bytes */
  for (int i = 0; i < plen; i++) stream[sn++] = ping[i];     /* PING seq 5 */
  for (int i = 0; i < p2len; i++) stream[sn++] = ping2[i];   /* PING seq 6 */
  for (int i = 0; i < sn; i++) {
    if (!mod_rx_push(&rx, stream[i])) continue;
    do { if (ns < 4) seqs[ns++] = rx.buf[1]; } while (mod_rx_resume(&rx));
  }
  CHECK_EQ(ns, 2);
  CHECK_EQ(seqs[0], 5);
  CHECK_EQ(seqs[1], 6);
  /* a crafted run of nested length bytes (each claiming a frame that the next one breaks)
   * is rescanned in a loop: the frame behind it still decodes, counted errors only */
  memset(&rx, 0, sizeof rx);
  sn = 0;
  for (int i = 0; i < 34; i++) stream[sn++] = (uint8_t)(MOD_FRAME_MAX_LEN - i);
  for (int i = 0; i < plen; i++) stream[sn++] = ping[i];
  ns = 0;
  for (int i = 0; i < sn; i++) {
    if (!mod_rx_push(&rx, stream[i])) continue;
    do { if (ns < 4) seqs[ns++] = rx.buf[1]; } while (mod_rx_resume(&rx));
  }
  CHECK_EQ(ns, 1);
  CHECK_EQ(seqs[0], 5);
  CHECK(rx.framing_errors >= 34);

  /* on the board: a corrupt SET is neither acknowledged nor applied */
  session();
  config_tens(0, 100, 100, 500);
  uint8_t p[MOD_SET_LEN] = {MOD_MSG_SET, 2}; mod_put32(&p[2], NOW + 10); mod_put16(&p[6], 100);
  uint8_t fr[32]; uint8_t len = mod_frame_encode(fr, 77, p, sizeof p);
  fr[len - 3] ^= 0xFF;
  int before = NF;
  feed(fr, len);
  CHECK_EQ(NF, before);
  tick(20);
  CHECK_EQ(B.out.us_x100, 0);
}

static void test_handshake(void) {
  reset("handshake");
  CHECK_EQ(ping(), MOD_STATUS_NO_SESSION);
  uint8_t p[4] = {MOD_MSG_HELLO, 2, 0x90, 0x01};
  CHECK_EQ(req(p, 4), MOD_STATUS_BAD_VERSION);
  CHECK_EQ(hello(20), MOD_STATUS_OUT_OF_LIMIT);
  int before = NF;
  CHECK_EQ(hello(400), MOD_STATUS_OK);
  CHECK_EQ(F[NF - 1].p[0], MOD_MSG_IDENTIFY);
  CHECK_EQ(F[before].p[0], MOD_MSG_ACK);
  CHECK_EQ(F[NF - 1].p[MOD_IDENTIFY_BOARD_KIND], 2);
  CHECK_EQ(mod_get16(&F[NF - 1].p[MOD_IDENTIFY_LEASE_MS]), 400);
  CHECK_EQ(mod_get16(&F[NF - 1].p[MOD_IDENTIFY_MAX_TENS_MA_X10]), 800);
  uint8_t bogus[] = {0x7F};
  CHECK_EQ(req(bogus, 1), -1); /* an unknown id is a framing error: dropped, counted, no ACK */
  uint8_t shortset[] = {MOD_MSG_SET, 0, 0};
  CHECK_EQ(req(shortset, 3), -1); /* a length that does not match the id: framing error, no ACK */
  /* telemetry every 250 ms */
  before = NF;
  for (int i = 0; i < 4; i++) { tick(250); CHECK_EQ(ping(), MOD_STATUS_OK); }
  int tel = 0;
  for (int i = before; i < NF; i++) tel += F[i].p[0] == MOD_MSG_TELEMETRY;
  CHECK_EQ(tel, 4);
}

static void test_queue_scheduling(void) {
  reset("queue");
  session();
  uint32_t t = NOW + 100;
  CHECK_EQ(set(2, t + 50, 200), MOD_STATUS_OK);
  CHECK_EQ(set(2, t, 150), MOD_STATUS_OK); /* out of order: still runs first */
  tick(99);
  CHECK_EQ(B.out.us_x100, 0);
  tick(1);
  CHECK_EQ(B.out.us_x100, 150);
  const frame_t *e = event(0, MOD_EVENT_APPLIED_SET, 2);
  CHECK(e != NULL);
  if (e) { CHECK_EQ(ev_ms(e), t); CHECK_EQ(mod_get16(&e->p[MOD_EVENT_VALUE]), 150); }
  tick(50);
  CHECK_EQ(B.out.us_x100, 200);
  /* LATE: a command whose time has passed is refused, never applied late */
  CHECK_EQ(set(2, NOW - 1, 100), MOD_STATUS_LATE);
  CHECK_EQ(B.out.us_x100, 200);
  CHECK_EQ(set(2, NOW, 100), MOD_STATUS_OK); /* due now is not late */
  tick(1);
  CHECK_EQ(B.out.us_x100, 100);
  /* 8 deep */
  for (int i = 0; i < 8; i++) CHECK_EQ(set(2, NOW + 100 + i, 10), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 200, 10), MOD_STATUS_QUEUE_FULL);
  uint8_t cancel[] = {MOD_MSG_CANCEL, 2};
  CHECK_EQ(req(cancel, 2), MOD_STATUS_OK);
  tick(150);
  CHECK_EQ(B.out.us_x100, 100);
  /* OFF at a time, OFF now */
  CHECK_EQ(off(2, NOW + 10), MOD_STATUS_OK);
  tick(10);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK(event(0, MOD_EVENT_APPLIED_OFF, 2) != NULL);
  CHECK_EQ(set(2, NOW + 10, 50), MOD_STATUS_OK);
  CHECK_EQ(off(0xFF, 0), MOD_STATUS_OK);
  tick(20);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK_EQ(set(9, NOW + 10, 50), MOD_STATUS_BAD_OUTPUT);
}

static void test_duplicate_seq(void) {
  reset("duplicate seq");
  session();
  uint8_t p[MOD_SET_LEN] = {MOD_MSG_SET, 2}; mod_put32(&p[2], NOW + 50); mod_put16(&p[6], 100);
  CHECK_EQ(send_seq(5, p, sizeof p), MOD_STATUS_OK);
  CHECK_EQ(B.ch[2].n, 1);
  CHECK_EQ(send_seq(5, p, sizeof p), MOD_STATUS_OK); /* the retransmission: ACKed again */
  CHECK_EQ(B.ch[2].n, 1);                           /* ... not queued twice */
  uint8_t late[MOD_SET_LEN] = {MOD_MSG_SET, 2}; mod_put32(&late[2], 1); mod_put16(&late[6], 100);
  CHECK_EQ(send_seq(6, late, sizeof late), MOD_STATUS_LATE);
  tick(5);
  CHECK_EQ(send_seq(6, late, sizeof late), MOD_STATUS_LATE); /* first answer's status */
}

static void test_lease(void) {
  reset("lease");
  CHECK_EQ(hello(200), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_OK);
  tick(150);
  CHECK_EQ(B.out.us_x100, 100);
  CHECK_EQ(ping(), MOD_STATUS_OK); /* renews */
  tick(199);
  CHECK_EQ(B.out.us_x100, 100);
  tick(1);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_HOST_TIMEOUT));
  const frame_t *e = event(0, MOD_EVENT_FAULT_LATCHED, 0xFF);
  CHECK(e && e->p[MOD_EVENT_CODE] == MOD_FAULT_HOST_TIMEOUT);
  /* one APPLIED_OFF per driven output, with the cause, before the FAULT_LATCHED */
  const frame_t *off = event(0, MOD_EVENT_APPLIED_OFF, 2);
  CHECK(off && off->p[MOD_EVENT_CODE] == MOD_FAULT_HOST_TIMEOUT && off < e);
  CHECK(!event(0, MOD_EVENT_APPLIED_OFF, 0) && !event(0, MOD_EVENT_APPLIED_OFF, 0xFF));
  /* the session is closed: silence (no telemetry, no resends), commands NO_SESSION */
  int quiet = NF;
  tick(1000);
  CHECK_EQ(NF, quiet);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_NO_SESSION);
  CHECK_EQ(hello(200), MOD_STATUS_OK); /* a new session: the fault is still latched */
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_FAULT_LATCHED);
  CHECK_EQ(clear(0xFF), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_OK);
  /* a corrupt frame does not renew the lease */
  tick(150);
  uint8_t fr[16], pp[] = {MOD_MSG_PING}; uint8_t len = mod_frame_encode(fr, hseq++, pp, 1);
  fr[1] ^= 0x40;
  feed(fr, len);
  tick(50);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_HOST_TIMEOUT));
}

static int bye(void) { uint8_t p[] = {MOD_MSG_BYE}; return req(p, 1); }

static void test_bye(void) {
  reset("bye");
  session();
  CHECK_EQ(config_tens(0, 100, 100, 500), MOD_STATUS_OK);
  CHECK_EQ(set(0, NOW + 10, 50), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_OK);
  CHECK_EQ(set(3, NOW + 10, 300), MOD_STATUS_OK);
  run(100);
  CHECK(B.out.tens_x10[0] > 0 && B.out.us_x100 == 100 && B.pad_goal != 0);
  CHECK_EQ(set(2, NOW + 5000, 150), MOD_STATUS_OK); /* queued: BYE drops it */
  int before = NF;
  CHECK_EQ(bye(), MOD_STATUS_OK);
  /* the ACK first, then one APPLIED_OFF (code 0) per driven output, at the BYE's board time */
  CHECK_EQ(F[before].p[0], MOD_MSG_ACK);
  uint8_t outs[] = {0, 2, 3};
  for (int i = 0; i < 3; i++) {
    const frame_t *e = event(before, MOD_EVENT_APPLIED_OFF, outs[i]);
    CHECK(e && e->p[MOD_EVENT_CODE] == 0 && ev_ms(e) == NOW && e > &F[before]);
  }
  CHECK(!event(before, MOD_EVENT_APPLIED_OFF, 1)); /* not driven: no event */
  CHECK(!event(before, MOD_EVENT_FAULT_LATCHED, 0xFE));
  CHECK_EQ(B.out.tens_x10[0], 0);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK_EQ(B.pad_goal, 0);
  CHECK_EQ(B.ch[2].n, 0);
  CHECK_EQ(B.board_faults, 0);
  CHECK_EQ(B.session, 0);
  /* the session is closed: silence, no HOST_TIMEOUT when the lease runs out, NO_SESSION */
  int quiet = NF;
  tick(2000);
  CHECK_EQ(NF, quiet);
  CHECK_EQ(B.board_faults | B.out_faults[0] | B.out_faults[1] | B.out_faults[2] | B.out_faults[3], 0);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_NO_SESSION);
  CHECK_EQ(bye(), MOD_STATUS_NO_SESSION); /* a BYE resent after the session closed */
  /* a new HELLO: the unacknowledged APPLIED_OFF events come again, nothing is latched */
  before = NF;
  CHECK_EQ(hello(400), MOD_STATUS_OK);
  CHECK(event(before, MOD_EVENT_APPLIED_OFF, 2) != NULL);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_OK);
  tick(20);
  CHECK_EQ(B.out.us_x100, 100);
  /* BYE leaves a latched fault latched */
  uint8_t estop[] = {MOD_MSG_ESTOP};
  CHECK_EQ(req(estop, 1), MOD_STATUS_OK);
  before = NF;
  CHECK_EQ(bye(), MOD_STATUS_OK);
  CHECK(!event(before, MOD_EVENT_APPLIED_OFF, 0xFE)); /* nothing was driven */
  CHECK_EQ(B.board_faults, faults_bit(MOD_FAULT_ESTOP));
  tick(1000);
  CHECK_EQ(B.board_faults, faults_bit(MOD_FAULT_ESTOP));
  CHECK_EQ(hello(400), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_FAULT_LATCHED);
}

static void test_limits(void) {
  reset("limits");
  session();
  CHECK_EQ(set(0, NOW + 10, 100), MOD_STATUS_OUT_OF_LIMIT); /* unconfigured channel */
  CHECK_EQ(config_tens(0, 151, 100, 500), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(config_tens(0, 100, 10, 500), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(config_tens(0, 100, 501, 500), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(config_tens(2, 100, 100, 500), MOD_STATUS_BAD_OUTPUT);
  CHECK_EQ(config_tens(0, 100, 100, 500), MOD_STATUS_OK);
  CHECK_EQ(set(0, NOW + 10, 801), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(set(0, NOW + 10, 800), MOD_STATUS_OK);
  CHECK_EQ(set(2, NOW + 10, 301), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(set(2, NOW + 10, 300), MOD_STATUS_OK);
  CHECK_EQ(set(3, NOW + 10, 99), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(set(3, NOW + 10, 401), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(set(3, NOW + 10, 400), MOD_STATUS_OK);
  /* density: 30 mA, 250 µs, 100 Hz on 2 cm²: I_rms = 30*sqrt(0.025) = 4.74 mA -> 2.37 mA/cm² > 2 */
  CHECK_EQ(config_tens(1, 100, 250, 20), MOD_STATUS_OK);
  CHECK_EQ(set(1, NOW + 10, 300), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(set(1, NOW + 10, 250), MOD_STATUS_OK); /* 1.98 mA/cm² */
  mod_tens_cfg_t c = {100, 250, 20, 0, 1, 0, 0, 0, 0, 0};  /* acknowledged: 4 mA/cm² */
  CHECK(mod_tens_density_ok(&c, 300));
  c.waveform = 1;                                 /* symmetric doubles the phase */
  CHECK(mod_tens_density_ok(&c, 350));  /* 35 mA: 3.91 mA/cm² */
  CHECK(!mod_tens_density_ok(&c, 360)); /* 36 mA: 4.02 mA/cm² */
  /* a rising ramp steeper than 10 mA/s is refused; a falling one is not limited */
  CHECK_EQ(ramp(0, NOW + 10, 0, 250, 2499), MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(ramp(0, NOW + 10, 0, 250, 2500), MOD_STATUS_OK);
  CHECK_EQ(ramp(0, NOW + 5000, 250, 0, 1), MOD_STATUS_OK);
  CHECK_EQ(ramp(0, NOW + 10, 0, 801, 100000), MOD_STATUS_OUT_OF_LIMIT);
}

static void test_slew_and_ramp(void) {
  reset("slew/ramp");
  session();
  config_tens(0, 100, 100, 500);
  uint32_t t = NOW + 10;
  CHECK_EQ(set(0, t, 250), MOD_STATUS_OK);
  tick(10);
  /* a rising set-point is followed at the slew limit and reported as the ramp it is */
  const frame_t *e = event(0, MOD_EVENT_RAMP_START, 0);
  CHECK(e && ev_ms(e) == t && mod_get16(&e->p[MOD_EVENT_VALUE]) == 250 && mod_get32(&e->p[MOD_EVENT_AUX]) == 2500);
  CHECK(event(0, MOD_EVENT_APPLIED_SET, 0) == NULL);
  run(1000);
  CHECK(B.out.tens_x10[0] >= 99 && B.out.tens_x10[0] <= 100); /* 10 mA after 1 s, never a jump */
  CHECK_EQ(B.out.tens_rate_hz[0], 100);
  run(1500);
  CHECK(B.out.tens_x10[0] >= 249 && B.out.tens_x10[0] <= 250);
  e = event(0, MOD_EVENT_APPLIED_SET, 0);
  CHECK(e && ev_ms(e) == t + 2500 && mod_get16(&e->p[MOD_EVENT_VALUE]) == 250);
  run(100);
  CHECK_EQ(B.out.tens_x10[0], 250);
  CHECK_EQ(set(0, NOW + 1, 50), MOD_STATUS_OK);
  tick(1);
  CHECK_EQ(B.out.tens_x10[0], 50); /* falling is immediate */
  /* RAMP 5 -> 25 mA over 4 s */
  int before = NF;
  t = NOW + 10;
  CHECK_EQ(ramp(0, t, 50, 250, 4000), MOD_STATUS_OK);
  tick(10);
  e = event(before, MOD_EVENT_RAMP_START, 0);
  CHECK(e && ev_ms(e) == t && mod_get16(&e->p[MOD_EVENT_VALUE]) == 250 && mod_get32(&e->p[MOD_EVENT_AUX]) == 4000);
  run(2000);
  CHECK(B.out.tens_x10[0] >= 148 && B.out.tens_x10[0] <= 150);
  run(2000);
  CHECK(B.out.tens_x10[0] >= 249);
  tick(20); /* the slew limiter smooths the ramp's last 0.1 mA step */
  CHECK_EQ(B.out.tens_x10[0], 250);
  e = event(before, MOD_EVENT_APPLIED_SET, 0);
  CHECK(e && ev_ms(e) == t + 4000);
  /* a ramp whose from lies above the present value is refused when due */
  before = NF;
  CHECK_EQ(ramp(0, NOW + 10, 300, 400, 10000), MOD_STATUS_OK);
  tick(10);
  e = event(before, MOD_EVENT_REFUSED, 0);
  CHECK(e && e->p[MOD_EVENT_CODE] == MOD_STATUS_OUT_OF_LIMIT);
  CHECK_EQ(B.out.tens_x10[0], 250);
}

static void test_lead_off(void) {
  reset("lead-off");
  session();
  config_tens(0, 100, 100, 500);
  config_tens(1, 100, 100, 500);
  set(0, NOW + 1, 100);
  set(1, NOW + 1, 100);
  run(2000);
  CHECK_EQ(B.out.tens_x10[0], 100);
  int before = NF;
  IN.tens_ohm[0] = 12000;
  tick(1);
  CHECK_EQ(B.out.tens_x10[0], 0); /* cut at once */
  CHECK_EQ(B.out.tens_x10[1], 100); /* the other channel runs on */
  CHECK(B.out_faults[0] & faults_bit(MOD_FAULT_LEAD_OFF));
  const frame_t *e = event(before, MOD_EVENT_FAULT_LATCHED, 0);
  CHECK(e && e->p[MOD_EVENT_CODE] == MOD_FAULT_LEAD_OFF);
  CHECK_EQ(set(0, NOW + 10, 100), MOD_STATUS_FAULT_LATCHED);
  CHECK_EQ(clear(0), MOD_STATUS_CAUSE_PRESENT);
  IN.tens_ohm[0] = 2000;
  run(5);
  e = event(before, MOD_EVENT_CAUSE_GONE, 0);
  CHECK(e && e->p[MOD_EVENT_CODE] == MOD_FAULT_LEAD_OFF);
  CHECK_EQ(B.out.tens_x10[0], 0); /* stays off until CLEAR */
  CHECK_EQ(clear(0), MOD_STATUS_OK);
  CHECK(event(before, MOD_EVENT_FAULT_CLEARED, 0) != NULL);
  CHECK_EQ(set(0, NOW + 10, 100), MOD_STATUS_OK);
  /* an undriven channel with open electrodes is not a fault */
  IN.tens_ohm[1] = MOD_OHM_OPEN;
  set(1, NOW + 1, 0);
  tick(1);
  CHECK_EQ(B.out_faults[1], 0);
}

static void test_coupling(void) {
  reset("coupling");
  session();
  set(2, NOW + 1, 150);
  tick(1);
  CHECK_EQ(B.out.us_x100, 150);
  IN.coupled = 0;
  tick(1);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK(B.out_faults[2] & faults_bit(MOD_FAULT_UNCOUPLED));
  CHECK_EQ(clear(2), MOD_STATUS_CAUSE_PRESENT);
  IN.coupled = 1;
  run(2);
  CHECK(event(0, MOD_EVENT_CAUSE_GONE, 2) != NULL);
  CHECK_EQ(clear(2), MOD_STATUS_OK);
}

static void test_stop_input(void) {
  reset("stop input");
  session();
  config_tens(0, 100, 100, 500);
  set(0, NOW + 1, 50); set(2, NOW + 1, 100); set(3, NOW + 1, 300);
  set(2, NOW + 5000, 200); /* queued: dropped by the stop */
  run(1000);
  CHECK_EQ(B.out.us_x100, 100);
  CHECK(B.out.heater_pct > 0);
  IN.stop = 1;
  tick(1);
  CHECK_EQ(B.out.tens_x10[0], 0);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK_EQ(B.out.heater_pct, 0);
  CHECK_EQ(B.ch[2].n, 0);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_STOP_INPUT));
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_FAULT_LATCHED);
  CHECK_EQ(clear(0xFF), MOD_STATUS_CAUSE_PRESENT);
  CHECK_EQ(clear(2), MOD_STATUS_OK); /* an output CLEAR leaves board-wide faults */
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_FAULT_LATCHED);
  IN.stop = 0;
  run(100);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_STOP_INPUT)); /* latched */
  CHECK_EQ(clear(0xFF), MOD_STATUS_OK);
  CHECK_EQ(B.board_faults, 0);
  CHECK_EQ(set(2, NOW + 10, 100), MOD_STATUS_OK);
  /* ESTOP */
  tick(10);
  uint8_t es[] = {MOD_MSG_ESTOP};
  CHECK_EQ(req(es, 1), MOD_STATUS_OK);
  tick(1);
  CHECK_EQ(B.out.us_x100, 0);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_ESTOP));
  CHECK_EQ(clear(0xFF), MOD_STATUS_OK);
}

static void test_thermal(void) {
  reset("thermal over-temp");
  session();
  set(3, NOW + 1, 380);
  run(10);
  CHECK_EQ(B.out.heater_pct, 100);
  IN.pad_cx10 = 375;
  run(10);
  CHECK_EQ(B.out.heater_pct, 50);
  IN.pad_cx10 = 412;
  tick(1);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_OVER_TEMP));
  CHECK_EQ(B.out.heater_pct, 0);
  CHECK_EQ(B.out.cooler_pct, 0);
  CHECK_EQ(clear(0xFF), MOD_STATUS_CAUSE_PRESENT);
  IN.pad_cx10 = 400;
  tick(1);
  CHECK_EQ(clear(0xFF), MOD_STATUS_OK);

  reset("thermal under-temp");
  session();
  set(3, NOW + 1, 120);
  run(10);
  CHECK(B.out.cooler_pct > 0);
  IN.pad_cx10 = 79;
  tick(1);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_UNDER_TEMP));

  reset("thermal watch");
  session();
  set(3, NOW + 1, 400); /* 25 -> 40 °C: must rise 2 °C within 20 s */
  run(19000);
  IN.pad_cx10 = 260;
  run(999);
  CHECK_EQ(B.board_faults, 0);
  run(2);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_THERMAL_RUNAWAY));
  const frame_t *e = event(0, MOD_EVENT_FAULT_LATCHED, 0xFF);
  CHECK(e && e->p[MOD_EVENT_CODE] == MOD_FAULT_THERMAL_RUNAWAY);

  reset("thermal watch passes and re-arms");
  session();
  set(3, NOW + 1, 400);
  run(10000);
  IN.pad_cx10 = 280; /* +3 °C within the period */
  run(10000);
  CHECK_EQ(B.board_faults, 0);
  run(19000); /* re-armed from 28 °C: no further rise -> runaway */
  CHECK_EQ(B.board_faults, 0);
  run(1100);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_THERMAL_RUNAWAY));

  reset("thermal at target, then stray");
  session();
  set(3, NOW + 1, 380);
  run(5000);
  IN.pad_cx10 = 372;
  run(10);
  e = event(0, MOD_EVENT_PAD_AT_TARGET, 3);
  CHECK(e && mod_get16(&e->p[MOD_EVENT_VALUE]) == 380);
  IN.pad_cx10 = 335; /* 4.5 °C off */
  run(39000);
  CHECK_EQ(B.board_faults, 0);
  IN.pad_cx10 = 350; /* back within 4 °C: resets the watch */
  run(100);
  IN.pad_cx10 = 335;
  run(39900);
  CHECK_EQ(B.board_faults, 0);
  run(200);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_THERMAL_RUNAWAY));
  CHECK_EQ(clear(0xFF), MOD_STATUS_OK); /* runaway has no present cause: the pad is off */
  CHECK_EQ(B.out.heater_pct, 0);

  reset("head over-temp");
  session();
  IN.head_cx10 = 440;
  tick(1);
  CHECK(B.board_faults & faults_bit(MOD_FAULT_HEAD_OVER_TEMP));
  CHECK_EQ(clear(0xFF), MOD_STATUS_CAUSE_PRESENT);
}

static void test_events_reliable(void) {
  reset("reliable events");
  session();
  set(2, NOW + 1, 100);
  int before = NF;
  tick(1);
  const frame_t *e = event(before, MOD_EVENT_APPLIED_SET, 2);
  CHECK(e != NULL);
  uint16_t id = e ? mod_get16(&e->p[MOD_EVENT_EVENT_ID]) : 0;
  before = NF;
  tick(49);
  CHECK(event(before, MOD_EVENT_APPLIED_SET, 2) == NULL);
  tick(1);
  e = event(before, MOD_EVENT_APPLIED_SET, 2); /* resent after 50 ms */
  CHECK(e && mod_get16(&e->p[MOD_EVENT_EVENT_ID]) == id);
  uint8_t ack[3] = {MOD_MSG_EVENT_ACK}; mod_put16(&ack[1], id);
  CHECK_EQ(req(ack, 3), MOD_STATUS_OK);
  before = NF;
  run(200);
  CHECK(event(before, MOD_EVENT_APPLIED_SET, 2) == NULL);
}

static void test_sensors(void) {
  reset("sensors");
  CHECK_EQ(mod_adc_to_cx10(512), 250);
  CHECK_EQ(mod_adc_to_cx10(354), 400);
  CHECK(mod_adc_to_cx10(345) > 400 && mod_adc_to_cx10(345) < 415);
  CHECK(mod_adc_to_cx10(1023) < 0);  /* open thermistor reads cold */
  CHECK(mod_adc_to_cx10(0) >= 1000); /* shorted reads hot */
  CHECK_EQ(mod_adc_to_ohm(1023), MOD_OHM_OPEN);
  CHECK_EQ(mod_adc_to_ohm(0), 0);
  CHECK(mod_adc_to_ohm(511) < 10000 && mod_adc_to_ohm(513) > 10000);
}


/* ---- TENS pulse planner (core/pulse.c) ---- */
static mod_tens_cfg_t tcfg(uint16_t rate, uint16_t pw, uint8_t bursts, uint8_t ppb, uint8_t kind, uint8_t min_pct, uint16_t ds) {
  mod_tens_cfg_t c;
  memset(&c, 0, sizeof c);
  c.rate_hz = rate; c.width_us = pw; c.area_x10 = 500;
  c.bursts_per_s = bursts; c.pulses_per_burst = ppb;
  c.mod_kind = kind; c.mod_min_pct = min_pct; c.mod_period_ds = ds;
  return c;
}

static void test_pulse_continuous(void) {
  current = "pulse: continuous trains are unchanged";
  mod_tens_train_t t;
  mod_pulse_t pl;
  mod_tens_cfg_t c = tcfg(80, 100, 0, 0, 0, 100, 0);
  mod_tens_train_reset(&t, &c);
  mod_tens_next_pulse(&t, &pl);
  CHECK_EQ(pl.start_us, 0); CHECK_EQ(pl.interval_us, 0); CHECK_EQ(pl.width_us, 100); CHECK_EQ(pl.amp_level, MOD_LEVEL_FULL);
  int bad = 0;
  for (int i = 1; i <= 2000; i++) {
    mod_tens_next_pulse(&t, &pl);
    if (pl.interval_us != 12500 || pl.start_us != (uint32_t)i * 12500u || pl.width_us != 100 || pl.amp_level != MOD_LEVEL_FULL) bad++;
  }
  CHECK_EQ(bad, 0);
  /* modKind 0 with a period and a floor set, a period of 0, or a 100 % floor: no sweep */
  const mod_tens_cfg_t none[] = {tcfg(150, 300, 0, 0, 0, 50, 10), tcfg(150, 300, 0, 0, MOD_TENS_MOD_WIDTH, 50, 0),
                                 tcfg(150, 300, 0, 0, MOD_TENS_MOD_RATE, 100, 10)};
  for (unsigned k = 0; k < sizeof none / sizeof none[0]; k++) {
    mod_tens_train_reset(&t, &none[k]);
    mod_tens_next_pulse(&t, &pl);
    bad = 0;
    for (int i = 0; i < 1000; i++) {
      mod_tens_next_pulse(&t, &pl);
      if (pl.interval_us != 6666 || pl.width_us != 300 || pl.amp_level != MOD_LEVEL_FULL) bad++;
    }
    CHECK_EQ(bad, 0);
  }
}

static void test_pulse_burst(void) {
  current = "pulse: burst trains";
  mod_tens_train_t t;
  mod_pulse_t pl;
  /* tens-burst: 2 bursts/s of 7 pulses at 100 Hz */
  mod_tens_cfg_t c = tcfg(100, 200, 2, 7, 0, 100, 0);
  mod_tens_train_reset(&t, &c);
  int bad = 0;
  uint32_t per_train[4] = {0};
  for (int i = 0; i < 28; i++) {
    mod_tens_next_pulse(&t, &pl);
    uint32_t want = (uint32_t)(i / 7) * 500000u + (uint32_t)(i % 7) * 10000u;
    if (pl.start_us != want || pl.width_us != 200) bad++;
    per_train[pl.start_us / 500000u]++;
    if (i % 7 == 0 && i) CHECK_EQ(pl.interval_us, 440000); /* the gap: 500 ms - 6 x 10 ms */
    if (i % 7) CHECK_EQ(pl.interval_us, 10000);
  }
  CHECK_EQ(bad, 0);
  for (int k = 0; k < 4; k++) CHECK_EQ(per_train[k], 7);
  /* one pulse per burst, and a burst as long as its period (5 x 10 ms at 20/s): back to back */
  c = tcfg(100, 100, 3, 1, 0, 100, 0);
  mod_tens_train_reset(&t, &c);
  mod_tens_next_pulse(&t, &pl);
  for (int i = 0; i < 5; i++) { mod_tens_next_pulse(&t, &pl); CHECK_EQ(pl.interval_us, 333333); }
  c = tcfg(100, 100, 20, 5, 0, 100, 0);
  mod_tens_train_reset(&t, &c);
  mod_tens_next_pulse(&t, &pl);
  for (int i = 0; i < 20; i++) { mod_tens_next_pulse(&t, &pl); CHECK_EQ(pl.interval_us, 10000); }
  CHECK_EQ(pl.start_us, 200000);
}

/* Run a modulated train for `us` and report the extremes of interval, width and amplitude,
 * and the start times of the pulses at the lowest rate/width/amplitude. */
typedef struct { uint32_t min_iv, max_iv; uint16_t min_w, max_w, min_a, max_a; uint32_t at_min[8]; int n_min; } sweep_t;
static sweep_t sweep(const mod_tens_cfg_t *c, uint32_t us, int what /* 1 interval 2 width 3 amp */) {
  mod_tens_train_t t;
  mod_pulse_t pl;
  sweep_t s = {0xFFFFFFFFu, 0, 0xFFFF, 0, 0xFFFF, 0, {0}, 0};
  mod_tens_train_reset(&t, c);
  mod_tens_next_pulse(&t, &pl);
  uint32_t prev_v = 0, prev2_v = 0, prev_start = 0;
  while (pl.start_us < us) {
    mod_tens_next_pulse(&t, &pl);
    if (pl.interval_us < s.min_iv) s.min_iv = pl.interval_us;
    if (pl.interval_us > s.max_iv) s.max_iv = pl.interval_us;
    if (pl.width_us < s.min_w) s.min_w = pl.width_us;
    if (pl.width_us > s.max_w) s.max_w = pl.width_us;
    if (pl.amp_level < s.min_a) s.min_a = pl.amp_level;
    if (pl.amp_level > s.max_a) s.max_a = pl.amp_level;
    /* a local extreme of the swept value: the previous pulse */
    /* the swept value (larger = lower rate, width, amplitude) and when its level was taken */
    uint32_t v = what == 1 ? pl.interval_us : what == 2 ? (uint32_t)(0xFFFF - pl.width_us) : (uint32_t)(0xFFFF - pl.amp_level);
    uint32_t at = what == 1 ? pl.start_us - pl.interval_us : pl.start_us;
    if (prev2_v && prev_v > prev2_v && prev_v >= v && s.n_min < 8) s.at_min[s.n_min++] = prev_start;
    prev2_v = prev_v; prev_v = v; prev_start = at;
  }
  return s;
}

static void test_pulse_modulation(void) {
  current = "pulse: rate modulation";
  mod_tens_train_t t;
  mod_tens_cfg_t c = tcfg(100, 150, 0, 0, MOD_TENS_MOD_RATE, 50, 10); /* 100 Hz swept to 50 Hz over 1 s */
  mod_tens_train_reset(&t, &c);
  CHECK_EQ(mod_tens_level(&t, 0), MOD_LEVEL_FULL);
  CHECK_EQ(mod_tens_level(&t, 250000), 768);
  CHECK_EQ(mod_tens_level(&t, 500000), 512);
  CHECK_EQ(mod_tens_level(&t, 750000), 768);
  CHECK_EQ(mod_tens_level(&t, 999999), MOD_LEVEL_FULL);
  sweep_t s = sweep(&c, 3100000, 1);
  CHECK_EQ(s.min_iv, 10000);            /* never faster than the set rate */
  CHECK(s.max_iv <= 20000);             /* never slower than 50 % */
  CHECK(s.max_iv >= 19700);             /* and it gets there */
  CHECK_EQ(s.min_w, 150); CHECK_EQ(s.max_w, 150); CHECK_EQ(s.min_a, MOD_LEVEL_FULL);
  CHECK(s.n_min >= 3);
  for (int i = 0; i < 3 && i < s.n_min; i++) { /* slowest around 0.5 s, 1.5 s, 2.5 s */
    long err = (long)s.at_min[i] - (long)(500000 + 1000000 * i);
    CHECK(err > -25000 && err < 25000);
  }

  current = "pulse: width modulation";
  c = tcfg(100, 200, 0, 0, MOD_TENS_MOD_WIDTH, 40, 20); /* 200 µs swept to 80 µs over 2 s */
  s = sweep(&c, 4000000, 2);
  CHECK_EQ(s.max_w, 200); CHECK_EQ(s.min_w, 80);
  CHECK_EQ(s.min_iv, 10000); CHECK_EQ(s.max_iv, 10000); /* the rate stays */
  CHECK_EQ(s.min_a, MOD_LEVEL_FULL);
  CHECK(s.n_min >= 2);
  CHECK_EQ(s.at_min[0], 1000000); CHECK_EQ(s.at_min[1], 3000000);
  {
    mod_pulse_t pl;
    mod_tens_train_reset(&t, &c);
    for (int i = 0; i <= 200; i++) mod_tens_next_pulse(&t, &pl); /* t = 2 s: a full period, back to 100 % */
    CHECK_EQ(pl.start_us, 2000000); CHECK_EQ(pl.width_us, 200);
  }
  /* the width floor: 20 µs */
  c = tcfg(100, 50, 0, 0, MOD_TENS_MOD_WIDTH, 10, 10);
  s = sweep(&c, 2000000, 2);
  CHECK_EQ(s.min_w, 20); CHECK_EQ(s.max_w, 50);

  current = "pulse: amplitude modulation";
  c = tcfg(100, 200, 0, 0, MOD_TENS_MOD_AMPLITUDE, 0, 10); /* 100 % down to 0 and back each second */
  s = sweep(&c, 2000000, 3);
  CHECK_EQ(s.max_a, MOD_LEVEL_FULL); CHECK_EQ(s.min_a, 0);
  CHECK_EQ(s.min_w, 200); CHECK_EQ(s.max_w, 200); CHECK_EQ(s.min_iv, 10000); CHECK_EQ(s.max_iv, 10000);
  CHECK_EQ(s.at_min[0], 500000); CHECK_EQ(s.at_min[1], 1500000);

  current = "pulse: burst with rate modulation, long periods";
  c = tcfg(100, 200, 2, 7, MOD_TENS_MOD_RATE, 20, 40);
  {
    mod_pulse_t pl;
    mod_tens_train_reset(&t, &c);
    mod_tens_next_pulse(&t, &pl);
    uint32_t train_start = 0;
    int n = 1, bad = 0;
    for (int i = 0; i < 400; i++) {
      mod_tens_next_pulse(&t, &pl);
      if (pl.interval_us < 10000) bad++;
      if (pl.start_us - train_start >= 500000) { /* a new train: exactly on the 2/s grid */
        if (pl.start_us - train_start != 500000 || n > 7) bad++;
        train_start = pl.start_us;
        n = 1;
      } else n++;
    }
    CHECK_EQ(bad, 0);
  }
  c = tcfg(100, 200, 0, 0, MOD_TENS_MOD_AMPLITUDE, 50, 65535); /* taken as 4200 s: no overflow */
  mod_tens_train_reset(&t, &c);
  CHECK_EQ(t.mod_us, 4200000000UL);
  CHECK_EQ(mod_tens_level(&t, 0), MOD_LEVEL_FULL);
  CHECK_EQ(mod_tens_level(&t, 2100000000UL), 512);
  CHECK_EQ(mod_tens_level(&t, 4199999999UL), MOD_LEVEL_FULL);
  c = tcfg(100, 200, 0, 0, MOD_TENS_MOD_RATE, 0, 10); /* a 0 % rate floor: 1 Hz at the slowest */
  {
    mod_pulse_t pl;
    mod_tens_train_reset(&t, &c);
    mod_tens_next_pulse(&t, &pl);
    t.level = 0; /* as at the bottom of the sweep */
    mod_tens_next_pulse(&t, &pl);
    CHECK_EQ(pl.interval_us, 1000000);
    s = sweep(&c, 3000000, 1);
    CHECK(s.max_iv <= 1000000); CHECK_EQ(s.min_iv, 10000);
  }

  current = "pulse: CONFIG_TENS keeps the modulation";
  reset(current);
  session();
  uint8_t p[MOD_CONFIG_TENS_LEN] = {MOD_MSG_CONFIG_TENS, 1};
  mod_put16(&p[MOD_CONFIG_TENS_RATE_HZ], 100); mod_put16(&p[MOD_CONFIG_TENS_PULSE_WIDTH_US], 150);
  mod_put16(&p[MOD_CONFIG_TENS_ELECTRODE_AREA_CM2X10], 250);
  p[MOD_CONFIG_TENS_BURSTS_PER_S] = 2; p[MOD_CONFIG_TENS_PULSES_PER_BURST] = 7;
  p[MOD_CONFIG_TENS_MOD_KIND] = MOD_TENS_MOD_RATE; p[MOD_CONFIG_TENS_MOD_MIN_PCT] = 50;
  mod_put16(&p[MOD_CONFIG_TENS_MOD_PERIOD_DS], 120);
  CHECK_EQ(req(p, sizeof p), MOD_STATUS_OK);
  CHECK_EQ(B.tens_cfg[1].bursts_per_s, 2); CHECK_EQ(B.tens_cfg[1].pulses_per_burst, 7);
  CHECK_EQ(B.tens_cfg[1].mod_kind, MOD_TENS_MOD_RATE); CHECK_EQ(B.tens_cfg[1].mod_min_pct, 50);
  CHECK_EQ(B.tens_cfg[1].mod_period_ds, 120);
  p[MOD_CONFIG_TENS_MOD_KIND] = 4;
  CHECK_EQ(req(p, sizeof p), MOD_STATUS_OUT_OF_LIMIT);
}

static int config_us(uint8_t f, uint8_t d, uint16_t era_x10) {
  uint8_t p[MOD_CONFIG_US_LEN] = {MOD_MSG_CONFIG_US, f, d}; mod_put16(&p[MOD_CONFIG_US_ERA_CM2X10], era_x10);
  return req(p, sizeof p);
}

static void test_config_rules(void) {
  reset("config rules");
  session();
  CHECK_EQ(config_us(2, 100, 50), MOD_STATUS_OUT_OF_LIMIT); /* 1 or 3 MHz only */
  CHECK_EQ(config_us(1, 15, 50), MOD_STATUS_OUT_OF_LIMIT);  /* 10, 20, 25, 33, 50, 100 % only */
  CHECK_EQ(config_us(3, 100, 0), MOD_STATUS_OUT_OF_LIMIT);  /* an ERA of 0 */
  CHECK_EQ(config_us(3, 33, 50), MOD_STATUS_OK);
  CHECK_EQ(B.us_duty_pct, 33);
  /* bursts: trains must fit in the second; 0 bursts/s is continuous with 0 pulses per burst */
  uint8_t p[MOD_CONFIG_TENS_LEN] = {MOD_MSG_CONFIG_TENS, 0};
  mod_put16(&p[MOD_CONFIG_TENS_RATE_HZ], 100); mod_put16(&p[MOD_CONFIG_TENS_PULSE_WIDTH_US], 200);
  mod_put16(&p[MOD_CONFIG_TENS_ELECTRODE_AREA_CM2X10], 10);
  p[MOD_CONFIG_TENS_BURSTS_PER_S] = 20; p[MOD_CONFIG_TENS_PULSES_PER_BURST] = 6;
  CHECK_EQ(req(p, sizeof p), MOD_STATUS_OUT_OF_LIMIT); /* 120 pulses/s do not fit at 100 Hz */
  p[MOD_CONFIG_TENS_BURSTS_PER_S] = 0; p[MOD_CONFIG_TENS_PULSES_PER_BURST] = 5;
  CHECK_EQ(req(p, sizeof p), MOD_STATUS_OUT_OF_LIMIT); /* 0 bursts/s but 5 pulses per burst */
  p[MOD_CONFIG_TENS_BURSTS_PER_S] = 2; p[MOD_CONFIG_TENS_PULSES_PER_BURST] = 7;
  CHECK_EQ(req(p, sizeof p), MOD_STATUS_OK);
  /* density at 2 x 7 pulses/s on 1 cm²: 80 mA is refused */
  CHECK_EQ(set(0, NOW + 10, 800), MOD_STATUS_OUT_OF_LIMIT);
}

static void test_event_overflow(void) {
  reset("event overflow");
  session();
  config_tens(0, 100, 100, 500);
  /* the host stops acknowledging events (it still pings): fill the queue with lesser events */
  for (int i = 0; i < MOD_EVENT_SLOTS + 4; i++) mod_emit(&B, MOD_EVENT_PAD_AT_TARGET, MOD_OUTPUT_PAD, 0, (uint16_t)i, 0);
  CHECK(B.events_dropped == 4);
  /* critical events displace lesser ones, never each other */
  for (int i = 0; i < MOD_EVENT_SLOTS; i++) mod_emit(&B, MOD_EVENT_APPLIED_OFF, 0, 0, 0, 0);
  int crit = 0;
  for (int i = 0; i < MOD_EVENT_SLOTS; i++) crit += B.ev[i].used && B.ev[i].kind == MOD_EVENT_APPLIED_OFF;
  CHECK_EQ(crit, MOD_EVENT_SLOTS);
  uint16_t dropped = B.events_dropped;
  mod_emit(&B, MOD_EVENT_RAMP_START, 0, 0, 0, 0); /* a lesser newcomer is the one dropped */
  crit = 0;
  for (int i = 0; i < MOD_EVENT_SLOTS; i++) crit += B.ev[i].used && B.ev[i].kind == MOD_EVENT_APPLIED_OFF;
  CHECK_EQ(crit, MOD_EVENT_SLOTS);
  CHECK_EQ(B.events_dropped, dropped + 1);
}

static void test_next_wake(void) {
  reset("next wake");
  CHECK_EQ(mod_next_wake(&B) - NOW, 0x40000000u); /* idle, no session: nothing to do */
  session();
  /* an ACK of HELLO and IDENTIFY went out; telemetry is next, or the lease */
  CHECK_EQ(mod_next_wake(&B), NOW + MOD_LIMIT_TELEMETRY_MS);
  CHECK_EQ(set(2, NOW + 30, 100), MOD_STATUS_OK);
  CHECK_EQ(mod_next_wake(&B), NOW + 30);
  /* ticking straight to the wake time and ticking every ms give the same frames */
  uint32_t w = mod_next_wake(&B);
  int before = NF;
  while (NOW < w - 1) { mod_tick(&B, ++NOW, &IN); CHECK_EQ(NF, before); } /* nothing before the wake */
  tick(1);
  CHECK(event(before, MOD_EVENT_APPLIED_SET, 2) != NULL);
  /* the event is resent after eventRetryMs unless acknowledged */
  CHECK_EQ(mod_next_wake(&B), NOW + MOD_LIMIT_EVENT_RETRY_MS);
}

/* A lazy host (the simulated board) ticks straight to mod_next_wake() while mod_steady():
 * the frames must be the same, byte for byte, as ticking every millisecond. */
static uint8_t LAZY;
static uint32_t TICKS;
static void advance(uint32_t ms) {
  uint32_t to = NOW + ms;
  uint8_t first = 1; /* the script changed inputs or sent a frame before each call: one real tick first */
  while (NOW < to) {
    uint32_t next = NOW + 1;
    if (LAZY && !first && mod_steady(&B)) {
      uint32_t w = mod_next_wake(&B);
      uint32_t stop = w < to ? w : to;
      if (stop > next) next = stop;
    }
    NOW = next;
    mod_tick(&B, NOW, &IN);
    TICKS++;
    first = 0;
  }
}
static void lazy_script(void) {
  reset(LAZY ? "lazy ticks" : "every tick");
  session();
  config_tens(0, 100, 100, 500);
  set(0, NOW + 100, 200);                 /* a rising set: slews for 2 s */
  set(2, NOW + 150, 120);
  set(3, NOW + 200, 380);                 /* pad target */
  for (int i = 0; i < 60; i++) {          /* 6 s with the host pinging, the pad warming */
    advance(100);
    IN.pad_cx10 = (int16_t)(IN.pad_cx10 + 3);
    ping();
  }
  ramp(0, NOW + 100, 200, 0, 1500);
  IN.tens_ohm[1] = 0xFFFF;
  for (int i = 0; i < 30; i++) { advance(100); ping(); }
  advance(1000);                         /* the host goes silent: the lease expires */
}
static void test_lazy_ticks(void) {
  static frame_t every[MAXF];
  LAZY = 0; TICKS = 0; lazy_script();
  uint32_t ticks_every = TICKS;
  int n_every = NF;
  memcpy(every, F, sizeof every);
  LAZY = 1; TICKS = 0; lazy_script();
  CHECK(TICKS * 3 < ticks_every); /* it did skip */
  CHECK_EQ(NF, n_every);
  int same = NF == n_every;
  for (int i = 0; same && i < NF; i++) same = F[i].n == every[i].n && memcmp(F[i].p, every[i].p, F[i].n) == 0;
  CHECK(same);
  LAZY = 0;
}

int main(void) {
  test_crc_and_framing();
  test_handshake();
  test_queue_scheduling();
  test_duplicate_seq();
  test_lease();
  test_bye();
  test_limits();
  test_slew_and_ramp();
  test_lead_off();
  test_coupling();
  test_stop_input();
  test_thermal();
  test_events_reliable();
  test_sensors();
  test_pulse_continuous();
  test_pulse_burst();
  test_pulse_modulation();
  test_config_rules();
  test_event_overflow();
  test_next_wake();
  test_lazy_ticks();
  current = "every frame sent";
  CHECK(sent_frames > 1000);
  CHECK_EQ(off_spec, 0);
  printf("%d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
