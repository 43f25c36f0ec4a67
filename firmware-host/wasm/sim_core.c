/*
 * The board core (firmware-host/core/) as a WebAssembly module for the simulated board
 * (sim/board.ts). This file is the WASM "hardware layer", the counterpart of avr/main.c:
 * it owns the clock (the simulated board tells it what time it is), hands received bytes
 * to the core, passes the plants' sensor readings in as inputs, and sends what the core
 * transmits to JavaScript. It adds no rule of its own; the only extra is a delivered-output
 * meter, the simulation's independent check of what the host's records say.
 *
 * Build: make -C firmware-host wasm (clang --target=wasm32, freestanding, wasm-ld).
 */
#include "../core/modality.h"
#ifndef MOD_DEFECTS
#error "the simulated board's core is built with -DMOD_DEFECTS (defect injection for tests)"
#endif

#define EXPORT(name) __attribute__((export_name(name)))
__attribute__((import_module("env"), import_name("tx"))) extern void js_tx(const uint8_t *bytes, uint32_t n);

/* clang may lower struct copies to these; there is no libc here */
void *memcpy(void *d, const void *s, unsigned long n) {
  uint8_t *dd = d; const uint8_t *ss = s;
  while (n--) *dd++ = *ss++;
  return d;
}
void *memset(void *d, int c, unsigned long n) {
  uint8_t *dd = d;
  while (n--) *dd++ = (uint8_t)c;
  return d;
}

static mod_t M;
static mod_inputs_t IN;
static uint8_t RX[256];
static uint8_t DIRTY = 1; /* inputs or bytes arrived since the last tick */

/* Delivered meter per output: ms above zero, sum of value x ms (wire units), peak. */
static uint32_t meter_on_ms[MOD_OUTPUT_COUNT];
static double meter_value_ms[MOD_OUTPUT_COUNT];
static uint16_t meter_peak[MOD_OUTPUT_COUNT];

static void tx(const uint8_t *bytes, uint8_t n) { js_tx(bytes, n); }

static uint16_t out_value(uint8_t o) {
  if (o <= MOD_OUTPUT_TENS2) return M.out.tens_x10[o];
  if (o == MOD_OUTPUT_ULTRASOUND) return M.out.us_x100;
  return M.pad_goal ? M.ch[MOD_OUTPUT_PAD].value : 0;
}

EXPORT("sim_init") void sim_init(uint32_t now_ms) {
  mod_init(&M, tx);
  M.board_kind = MOD_BOARD_KIND_SIM;
  IN = M.in;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) { meter_on_ms[o] = 0; meter_value_ms[o] = 0; meter_peak[o] = 0; }
  mod_tick(&M, now_ms, &IN);
  DIRTY = 1;
}

static void meter_hold(uint32_t ms) {
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) {
    uint16_t v = out_value(o);
    if (!v) continue;
    meter_on_ms[o] += ms;
    meter_value_ms[o] += (double)v * ms;
    if (v > meter_peak[o]) meter_peak[o] = v;
  }
}

/* Run the board up to and including board time to_ms: a tick for every millisecond while
 * something ramps or slews or the inputs just changed, and otherwise straight to the next
 * time the core has something to do (mod_steady, mod_next_wake). The values held over
 * each millisecond go to the meter. */
EXPORT("sim_advance") void sim_advance(uint32_t to_ms) {
  while ((int32_t)(to_ms - M.now) > 0) {
    uint32_t next = M.now + 1;
    if (!DIRTY && mod_steady(&M)) {
      uint32_t w = mod_next_wake(&M);
      uint32_t stop = (int32_t)(w - to_ms) < 0 ? w : to_ms;
      if ((int32_t)(stop - next) > 0) next = stop;
    }
    meter_hold(next - M.now);
    mod_tick(&M, next, &IN);
    DIRTY = 0;
  }
}

EXPORT("sim_rx_buffer") uint8_t *sim_rx_buffer(void) { return RX; }
EXPORT("sim_rx") void sim_rx(uint32_t n) {
  for (uint32_t i = 0; i < n && i < sizeof RX; i++) mod_rx_byte(&M, RX[i]);
  DIRTY = 1;
}

EXPORT("sim_set_inputs") void sim_set_inputs(int32_t pad_cx10, int32_t head_cx10, uint32_t ohm1, uint32_t ohm2, uint32_t coupled, uint32_t stop) {
  IN.pad_cx10 = (int16_t)pad_cx10;
  IN.head_cx10 = (int16_t)head_cx10;
  IN.tens_ohm[0] = (uint16_t)ohm1;
  IN.tens_ohm[1] = (uint16_t)ohm2;
  IN.coupled = coupled ? 1 : 0;
  IN.stop = stop ? 1 : 0;
  DIRTY = 1;
}

/* What the simulated board has (a device profile may give it less): missing outputs answer
 * BAD_OUTPUT, and the TENS limit may only go down. */
EXPORT("sim_configure") void sim_configure(uint32_t tens_channels, uint32_t has_us, uint32_t has_pad, uint32_t max_tens_x10) {
  M.tens_channels = (uint8_t)(tens_channels > 2 ? 2 : tens_channels);
  M.has_us = has_us ? 1 : 0;
  M.has_pad = has_pad ? 1 : 0;
  if (max_tens_x10 < M.max_tens_x10) M.max_tens_x10 = (uint16_t)max_tens_x10;
}

EXPORT("sim_set_defects") void sim_set_defects(uint32_t mask) { M.defects = (uint16_t)mask; }
EXPORT("sim_board_faults") uint32_t sim_board_faults(void) { return M.board_faults; }
EXPORT("sim_now") uint32_t sim_now(void) { return M.now; }
EXPORT("sim_next_wake") uint32_t sim_next_wake(void) { return mod_next_wake(&M); }
EXPORT("sim_output") uint32_t sim_output(uint32_t o) { return o < MOD_OUTPUT_COUNT ? out_value((uint8_t)o) : 0; }
EXPORT("sim_heater_pct") uint32_t sim_heater_pct(void) { return M.out.heater_pct; }
EXPORT("sim_cooler_pct") uint32_t sim_cooler_pct(void) { return M.out.cooler_pct; }
EXPORT("sim_session") uint32_t sim_session(void) { return M.session; }
EXPORT("sim_faults") uint32_t sim_faults(void) {
  uint16_t f = M.board_faults;
  for (uint8_t o = 0; o < MOD_OUTPUT_COUNT; o++) f |= M.out_faults[o];
  return f;
}
EXPORT("sim_meter_on_ms") uint32_t sim_meter_on_ms(uint32_t o) { return o < MOD_OUTPUT_COUNT ? meter_on_ms[o] : 0; }
EXPORT("sim_meter_value_ms") double sim_meter_value_ms(uint32_t o) { return o < MOD_OUTPUT_COUNT ? meter_value_ms[o] : 0; }
EXPORT("sim_meter_peak") uint32_t sim_meter_peak(uint32_t o) { return o < MOD_OUTPUT_COUNT ? meter_peak[o] : 0; }
EXPORT("sim_frames_in") uint32_t sim_frames_in(void) { return M.rx.frames; }
EXPORT("sim_crc_errors") uint32_t sim_crc_errors(void) { return M.rx.crc_errors; }
EXPORT("sim_framing_errors") uint32_t sim_framing_errors(void) { return M.rx.framing_errors; }
EXPORT("sim_events_dropped") uint32_t sim_events_dropped(void) { return M.events_dropped; }
