/*
 * modality board core: portable C (no AVR headers). The wire protocol of
 * docs/protocol.md and the board's own safety behaviour.
 *
 * The hardware layer (avr/ or host/) owns the clock, the UART and the pins:
 *   - it feeds received bytes to mod_rx_byte(),
 *   - calls mod_tick() once per board millisecond with fresh inputs,
 *   - applies the outputs in m->out after each call,
 *   - and sends the bytes the core hands to the tx callback.
 * Every output's safe state is off; mod_init() leaves everything off.
 */
#ifndef MOD_MODALITY_H
#define MOD_MODALITY_H

#include <stdint.h>
#include "wire_spec.h"

#define MOD_FW_MAJOR 0
#define MOD_FW_MINOR 3
#define MOD_FW_PATCH 1
#define MOD_BOARD_KIND_SIM 1 /* the core in WebAssembly, in the simulated board */
#define MOD_BOARD_KIND_AVR 2

#define MOD_QDEPTH ((uint8_t)MOD_LIMIT_QUEUE_DEPTH)
#define MOD_EVENT_SLOTS ((uint8_t)MOD_LIMIT_EVENT_QUEUE_DEPTH)
#define MOD_OHM_OPEN 0xFFFFu

/* ---- CRC and framing (frame.c) ---- */
uint16_t mod_crc16(const uint8_t *p, uint8_t n, uint16_t crc);

typedef struct {
  uint8_t buf[MOD_FRAME_MAX_LEN];
  uint8_t n;          /* candidate frame: buf[0..n) */
  uint8_t pend_end;   /* after a frame is handed out: bytes behind it, buf[buf[0]..pend_end) */
  uint16_t frames, crc_errors, framing_errors;
} mod_rx_t;

/* Feed one byte; returns 1 when buf[0..buf[0]) holds a complete, checked frame. */
uint8_t mod_rx_push(mod_rx_t *rx, uint8_t b);
/* After a frame: returns 1 when the bytes that came behind it complete another one
 * (call until it returns 0, handling each frame, before the next push). */
uint8_t mod_rx_resume(mod_rx_t *rx);
/* Build a frame around payload[0..n) into out (>= n + 5 bytes); returns the frame length. */
uint8_t mod_frame_encode(uint8_t *out, uint8_t seq, const uint8_t *payload, uint8_t n);

/* little-endian helpers */
static inline uint16_t mod_get16(const uint8_t *p) { return (uint16_t)(p[0] | ((uint16_t)p[1] << 8)); }
static inline uint32_t mod_get32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void mod_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void mod_put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* ---- sensors (sensors.c): 10-bit ADC readings to physical units ---- */
/* Pad/head thermistor: 10 kΩ NTC (B 3950) to ground, 10 kΩ pull-up to AREF. Returns 0.1 °C. */
int16_t mod_adc_to_cx10(uint16_t adc);
/* Electrode sense: electrode impedance to ground, 10 kΩ reference to AREF. Returns Ω, 0xFFFF open. */
uint16_t mod_adc_to_ohm(uint16_t adc);

/* ---- the board ---- */
typedef struct {
  int16_t pad_cx10;      /* pad surface temperature, 0.1 °C */
  int16_t head_cx10;     /* ultrasound head temperature, 0.1 °C */
  uint16_t tens_ohm[2];  /* electrode impedance, Ω (0xFFFF open) */
  uint8_t coupled;       /* ultrasound head coupled to the skin */
  uint8_t stop;          /* patient stop input active */
} mod_inputs_t;

typedef struct {
  uint16_t tens_x10[2];        /* amplitude to drive now, 0.1 mA (0 = off) */
  uint16_t tens_rate_hz[2];    /* pulse rate (0 = no pulses) */
  uint16_t tens_width_us[2];   /* pulse width */
  uint16_t us_x100;            /* ultrasound intensity now, 0.01 W/cm² (0 = off) */
  uint8_t us_duty_pct;         /* ultrasound duty cycle */
  uint8_t heater_pct;          /* pad heater drive 0..100 */
  uint8_t cooler_pct;          /* pad cooler drive 0..100 */
} mod_outputs_t;

enum { CMD_NONE = 0, CMD_SET, CMD_RAMP, CMD_OFF };

typedef struct {
  uint32_t at_ms;
  uint32_t duration_ms;
  uint16_t from, to;
  uint8_t kind;
} mod_cmd_t;

typedef struct {
  mod_cmd_t q[MOD_QDEPTH];
  uint8_t n;
  /* the commanded value and a running ramp */
  uint16_t value;          /* setpoint (TENS: target the slew follows) */
  uint8_t on;
  uint8_t ramping;
  uint32_t ramp_start, ramp_dur;
  uint16_t ramp_from, ramp_to;
} mod_chan_t;

typedef struct {
  uint16_t id;
  uint32_t board_ms;
  uint8_t kind, output, code;
  uint16_t value;
  uint32_t aux;
  uint32_t last_sent;
  uint8_t used, sent;
} mod_event_t;

typedef struct {
  uint16_t rate_hz, width_us, area_x10;
  uint8_t waveform, flags, bursts_per_s, pulses_per_burst;
  uint8_t mod_kind, mod_min_pct; /* MOD_TENS_MOD_*, sweep floor in % of the set value */
  uint16_t mod_period_ds;        /* sweep period, 0.1 s (0 = no sweep) */
} mod_tens_cfg_t;

/* ---- TENS pulse planner (pulse.c): burst gating and modulation ----
 * A channel's pulses, one at a time, on the train's own µs clock (0 = the first pulse).
 * Burst: trains of pulses_per_burst pulses at rate_hz, one train every 1/bursts_per_s s.
 * Modulation: a triangle sweep of the rate, width or amplitude from 100 % down to
 * mod_min_pct % and back up over mod_period_ds (the level is evaluated at each pulse's
 * start). Never above the set rate or width, so the density check at the set values is
 * an upper bound. Floors: 1 Hz, MOD_LIMIT_MIN_TENS_PULSE_WIDTH_US. mod_period_ds 0 means
 * no sweep; periods above 4200 s are taken as 4200 s. The divisions are in
 * mod_tens_train_reset(); mod_tens_next_pulse() divides only under rate modulation. */
enum { MOD_TENS_MOD_NONE = 0, MOD_TENS_MOD_RATE = 1, MOD_TENS_MOD_WIDTH = 2, MOD_TENS_MOD_AMPLITUDE = 3 };
#define MOD_LEVEL_FULL 1024u /* modulation levels are in 1/1024 of the set value */

typedef struct {
  /* precomputed from the config */
  uint32_t period_us;      /* 1e6 / rate_hz */
  uint32_t burst_us;       /* 1e6 / bursts_per_s; 0 = continuous */
  uint32_t mod_us;         /* sweep period; 0 = none */
  uint32_t mod_half;       /* mod_us / 2 */
  uint32_t mod_k;          /* 2^30 / (mod_half >> mod_shift) */
  uint16_t width_us, min_level;
  uint8_t mod_shift, ppb, kind;
  /* running */
  uint8_t started, n;      /* n: pulses so far in the present burst */
  uint16_t level;          /* modulation level of the last pulse */
  uint32_t t_us;           /* start of the last pulse */
  uint32_t in_burst_us;    /* from the present burst's start to the last pulse */
  uint32_t phase_us;       /* sweep phase of the last pulse, 0..mod_us */
} mod_tens_train_t;

typedef struct {
  uint32_t start_us;       /* on the train's clock (wraps after 71 min: use differences) */
  uint32_t interval_us;    /* from the previous pulse's start (0 for the first) */
  uint16_t width_us;
  uint16_t amp_level;      /* amplitude scale, 1/1024 of the set-point (MOD_LEVEL_FULL = 100 %) */
} mod_pulse_t;

void mod_tens_train_reset(mod_tens_train_t *t, const mod_tens_cfg_t *c);
/* The sweep level (1/1024) at phase_us into the period. */
uint16_t mod_tens_level(const mod_tens_train_t *t, uint32_t phase_us);
void mod_tens_next_pulse(mod_tens_train_t *t, mod_pulse_t *out);

typedef void (*mod_tx_fn)(const uint8_t *bytes, uint8_t n);

typedef struct {
  mod_tx_fn tx;
  uint8_t board_kind;     /* IDENTIFY's boardKind: set by the hardware layer after mod_init */
  /* What this board has, set by the hardware layer after mod_init (default: everything,
   * the full TENS range). A missing output answers BAD_OUTPUT; max_tens_x10 may only
   * narrow the limit. IDENTIFY reports them. */
  uint8_t tens_channels, has_us, has_pad;
  uint16_t max_tens_x10;
  mod_rx_t rx;
  uint32_t now;
  mod_inputs_t in;
  mod_outputs_t out;

  /* session and lease */
  uint8_t session;
  uint16_t lease_ms;
  uint32_t last_rx_ms;
  uint8_t tx_seq;
  uint8_t have_last, last_seq, last_status;
  uint16_t last_crc;
  uint32_t next_telemetry;

  mod_chan_t ch[MOD_OUTPUT_COUNT];
  uint32_t tens_fine[2];  /* slewed TENS amplitude in 0.1 µA (0.1 mA × 1e-3) */
  mod_tens_cfg_t tens_cfg[2];
  uint8_t us_duty_pct, us_freq_mhz;
  uint16_t us_era_x10;

  /* faults: bit (code - 1) */
  uint16_t board_faults;
  uint16_t out_faults[MOD_OUTPUT_COUNT];
  uint8_t cause_gone_sent[MOD_OUTPUT_COUNT];

  /* pad loop and runaway watch */
  uint16_t pad_goal;          /* final target, 0.1 °C (0 = none) */
  uint8_t pad_at_target;
  uint8_t watch_active;
  int16_t watch_start;
  uint32_t watch_deadline;
  uint8_t stray;
  uint32_t stray_since;

#ifdef MOD_DEFECTS
  /* Defect injection, compiled into the simulated board only (never into the firmware):
   * tests use it to prove the host's own checks catch a board that breaks its rules. */
  uint16_t defects;
#endif

  mod_event_t ev[MOD_EVENT_SLOTS];
  uint16_t next_event_id;
  uint16_t events_dropped;
} mod_t;

void mod_init(mod_t *m, mod_tx_fn tx);
/* Feed one received byte (processed at board time m->now). */
void mod_rx_byte(mod_t *m, uint8_t b);
/* Advance the board to now_ms (call every millisecond) with fresh inputs. */
void mod_tick(mod_t *m, uint32_t now_ms, const mod_inputs_t *in);

#define MOD_DEFECT_NO_RUNAWAY 0x0001u           /* THERMAL_RUNAWAY never latches */
#define MOD_DEFECT_DROP_DUE(o) (0x0100u << (o))  /* due commands of output o are dropped unrun */

/* The earliest board time after now at which mod_tick() would, with the inputs
 * unchanged, send something or change state on its own: a queued command falling due,
 * a ramp's end, telemetry, an event resend, the lease, the thermal watch. A host that
 * runs the core lazily (the simulated board) ticks through to then in one call; a
 * received byte or an input change is a reason to run it earlier. */
uint32_t mod_next_wake(const mod_t *m);
/* 1 when nothing ramps or slews: with the inputs unchanged since the last tick, every tick
 * before mod_next_wake() would leave the board as it is, so a lazy host may call mod_tick()
 * straight at that time (mod_tick() handles a jump of the clock as a main loop that fell
 * behind would). */
uint8_t mod_steady(const mod_t *m);

/* The hardware layer saw no byte at all for the lease (its own faster watch, in the tick
 * interrupt): no valid frame can have come either, so the lease has expired. Latches
 * HOST_TIMEOUT and closes the session, exactly as the core's own check does. */
void mod_host_silent(mod_t *m);

/* Exposed for unit tests. */
uint8_t mod_tens_density_ok(const mod_tens_cfg_t *c, uint16_t amp_x10);
void mod_emit(mod_t *m, uint8_t kind, uint8_t output, uint8_t code, uint16_t value, uint32_t aux);

#endif
