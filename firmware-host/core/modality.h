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
#define MOD_FW_MINOR 1
#define MOD_FW_PATCH 0
#define MOD_BOARD_KIND_AVR 2

#define MOD_QDEPTH ((uint8_t)MOD_LIMIT_QUEUE_DEPTH)
#define MOD_EVENT_SLOTS 8
#define MOD_OHM_OPEN 0xFFFFu

/* ---- CRC and framing (frame.c) ---- */
uint16_t mod_crc16(const uint8_t *p, uint8_t n, uint16_t crc);

typedef struct {
  uint8_t buf[MOD_FRAME_MAX_LEN];
  uint8_t n;
  uint16_t frames, crc_errors, framing_errors;
} mod_rx_t;

/* Feed one byte; returns 1 when buf[0..buf[0]) holds a complete, checked frame. */
uint8_t mod_rx_push(mod_rx_t *rx, uint8_t b);
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
} mod_tens_cfg_t;

typedef void (*mod_tx_fn)(const uint8_t *bytes, uint8_t n);

typedef struct {
  mod_tx_fn tx;
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

  mod_event_t ev[MOD_EVENT_SLOTS];
  uint16_t next_event_id;
  uint16_t events_dropped;
} mod_t;

void mod_init(mod_t *m, mod_tx_fn tx);
/* Feed one received byte (processed at board time m->now). */
void mod_rx_byte(mod_t *m, uint8_t b);
/* Advance the board to now_ms (call every millisecond) with fresh inputs. */
void mod_tick(mod_t *m, uint32_t now_ms, const mod_inputs_t *in);

/* Exposed for unit tests. */
uint8_t mod_tens_density_ok(const mod_tens_cfg_t *c, uint16_t amp_x10);
void mod_emit(mod_t *m, uint8_t kind, uint8_t output, uint8_t code, uint16_t value, uint32_t aux);

#endif
