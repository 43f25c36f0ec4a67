/*
 * Thin hardware layer for the ATmega328P: UART, 1 ms tick, TENS pulse trains,
 * PWM outputs, ADC, stop input and the watchdog. All behaviour is in core/.
 *
 * Timing near the hardware's limit:
 *  - The stop input has a pin-change interrupt (PCINT18): its routine cuts every output itself, at once
 *    (PWM disconnected, pins low, pulse edges suppressed), and holds them cut until the
 *    core has latched STOP_INPUT (the core then drives zeros itself; only CLEAR, refused
 *    while the button is pressed, re-enables anything). A bounce cannot re-enable.
 *  - The core runs one tick ahead: the main loop computes tick T+1 during ms T and stages
 *    its outputs as register values; the Timer2 overflow interrupt that starts ms T+1
 *    writes them, so a set-point due at T+1 reaches the pins within microseconds of the
 *    board's own millisecond edge, however long the main loop's pass was.
 *  - The tick interrupt also watches the lease: no byte at all from the host for the lease
 *    cuts every output at that millisecond edge; the core is then told (mod_host_silent)
 *    and latches HOST_TIMEOUT.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/wdt.h>
#include <util/atomic.h>
#include "hal.h"
#include "modality.h"

static mod_t board;
static mod_inputs_t inputs;

/* ----------------------------------------------------- fast cuts */
#define CUT_STOP 1u  /* the stop input's pin-change interrupt fired */
#define CUT_LEASE 2u /* the tick interrupt saw no byte for the lease */
static volatile uint8_t cut;             /* outputs held off until the core has latched the cause */
static volatile uint32_t tick_ms;        /* the board clock, ms (Timer2 overflows) */
static volatile uint32_t rx_last_ms;     /* tick of the last byte received */
static volatile uint16_t lease_watch_ms; /* 0: no session; else the lease the core holds */

static inline void pulse_pin_off(uint8_t ch);

/* Every output off, from an interrupt: register writes only (a few cycles). Port B's bits
 * one instruction each (sbi/cbi): the pulse pins there belong to Timer1's compare units. */
static inline void cut_outputs(void) {
  TCCR0A &= (uint8_t)~(_BV(COM0A1) | _BV(COM0B1)); /* TENS amplitude PWM disconnected */
  TCCR2A &= (uint8_t)~_BV(COM2B1);                  /* ultrasound intensity PWM disconnected */
  PORTD &= (uint8_t)~(_BV(PIN_US_EN) | _BV(PIN_US_PWM) | _BV(PIN_TENS1_AMP) | _BV(PIN_TENS2_AMP));
  PORTB &= (uint8_t)~_BV(PIN_HEATER);
  PORTB &= (uint8_t)~_BV(PIN_COOLER);
  pulse_pin_off(0);
  pulse_pin_off(1);
}

ISR(PCINT2_vect) {
  if (!(PIND & _BV(PIN_STOP))) return; /* a glitch that is already gone */
  cut_outputs();
  cut |= CUT_STOP;
}

/* ------------------------------------------------------------ UART */
#define RX_SIZE 64 /* power of two */
#define TX_SIZE 128
static volatile uint8_t rx_buf[RX_SIZE], rx_head, rx_tail;
static volatile uint8_t tx_buf[TX_SIZE], tx_head, tx_tail;
static volatile uint8_t rx_overflows;

ISR(USART_RX_vect) {
  uint8_t b = UDR0;
  rx_last_ms = tick_ms;
  uint8_t next = (uint8_t)((rx_head + 1) & (RX_SIZE - 1));
  if (next == rx_tail) { rx_overflows++; return; } /* dropped: the CRC catches the hole */
  rx_buf[rx_head] = b;
  rx_head = next;
}

ISR(USART_UDRE_vect) {
  if (tx_head == tx_tail) { UCSR0B &= (uint8_t)~_BV(UDRIE0); return; }
  UDR0 = tx_buf[tx_tail];
  tx_tail = (uint8_t)((tx_tail + 1) & (TX_SIZE - 1));
}

static void uart_tx(const uint8_t *b, uint8_t n) {
  while (n--) {
    uint8_t next = (uint8_t)((tx_head + 1) & (TX_SIZE - 1));
    while (next == tx_tail) wdt_reset(); /* ring full: wait for the line (at most ~11 ms) */
    tx_buf[tx_head] = *b++;
    tx_head = next;
    UCSR0B |= _BV(UDRIE0);
  }
}

static void uart_init(void) {
  UCSR0A = _BV(U2X0);
  UBRR0 = 16; /* 16 MHz / (8 * 17) = 117647 baud, 2.1 % from 115200 */
  UCSR0C = _BV(UCSZ01) | _BV(UCSZ00);
  UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
}

/* ------------------------------------------------------- 1 ms tick */
/* A tick's outputs as register values, computed ahead by the main loop (stage_outputs). */
typedef struct {
  uint8_t ocr0a, ocr0b, com0; /* TENS amplitude PWM and its COM0A1/COM0B1 bits */
  uint8_t ocr2b, com2;        /* ultrasound intensity PWM and its COM2B1 bit */
  uint8_t portd, portb;       /* US_EN on port D; heater, cooler, LED on port B */
} stage_t;
#define STAGE_PORTD_MASK _BV(PIN_US_EN)
static volatile stage_t stage;
static volatile uint32_t stage_ms;
static volatile uint8_t stage_pending;

static inline void apply_stage(void) {
  if (cut) { cut_outputs(); if (stage.portb & _BV(PIN_LED)) PORTB |= _BV(PIN_LED); else PORTB &= (uint8_t)~_BV(PIN_LED); return; }
  OCR2B = stage.ocr2b;
  TCCR2A = (uint8_t)((TCCR2A & (uint8_t)~_BV(COM2B1)) | stage.com2);
  PORTD = (uint8_t)((PORTD & (uint8_t)~STAGE_PORTD_MASK) | stage.portd);
  OCR0A = stage.ocr0a;
  OCR0B = stage.ocr0b;
  TCCR0A = (uint8_t)((TCCR0A & (uint8_t)~(_BV(COM0A1) | _BV(COM0B1))) | stage.com0);
  /* bit by bit (sbi/cbi): a read-modify-write of the whole port could race the compare units' pulse edges */
  uint8_t pb = stage.portb;
  if (pb & _BV(PIN_HEATER)) PORTB |= _BV(PIN_HEATER); else PORTB &= (uint8_t)~_BV(PIN_HEATER);
  if (pb & _BV(PIN_COOLER)) PORTB |= _BV(PIN_COOLER); else PORTB &= (uint8_t)~_BV(PIN_COOLER);
  if (pb & _BV(PIN_LED)) PORTB |= _BV(PIN_LED); else PORTB &= (uint8_t)~_BV(PIN_LED);
}

/* The tick: count, then write the staged outputs (the time-critical part, a few µs), then
 * let the pulse edges in (interrupts on) before the lease watch's 32-bit arithmetic. */
ISR(TIMER2_OVF_vect) {
  uint32_t t = tick_ms + 1;
  tick_ms = t;
  if (stage_pending && (uint16_t)stage_ms == (uint16_t)t) { apply_stage(); stage_pending = 0; }
  uint16_t lease = lease_watch_ms;
  if (!lease || (cut & CUT_LEASE)) return;
  uint32_t last = rx_last_ms; /* read whole before interrupts are back on (the UART writes it) */
  sei();
  if (t - last >= lease) {
    cli();
    cut_outputs();
    cut |= CUT_LEASE;
  }
}

/* ------------------------------------------------ TENS pulse trains */
/* Timer1 runs free at 2 MHz (0.5 µs). Each channel's compare unit drives its pulse pin
 * itself (OC1A = PB1, OC1B = PB2, toggle on match): the hardware raises the pin at the rise
 * match and lowers it at the fall match, so a pulse's width is exact to the timer's
 * 0.5 µs whatever interrupt is being served at either edge (a pin written by the compare
 * routine was late by that routine's latency, and the width varied by up to 6 µs when a
 * UART byte came in at one edge). The compare routine only schedules: at the rise it sets
 * the fall match (rise + width), at the fall it disconnects the pin and plans the next
 * pulse (core/pulse.c: burst gating, modulation) with interrupts enabled, its own compare
 * parked 15 ms ahead, so a planning step (one division under rate modulation) never
 * delays the other channel's edges or the tick. The pin is connected to its compare unit
 * only from the last gap step (the rise armed) to the fall match: between pulses, and
 * whenever an output is cut, the port (low) drives it. */
enum { P_GAP, P_RISE, P_FALL };
typedef struct {
  uint32_t remaining;     /* gap ticks still to wait */
  uint16_t width;         /* ticks, the planned (or running) pulse */
  uint16_t amp_level;     /* amplitude scale of the planned pulse, 1/1024 */
  uint8_t state;          /* what the pending compare match does */
  uint8_t on;
  mod_tens_cfg_t cfg;     /* as applied, so an unchanged setting costs nothing */
  mod_tens_train_t train;
} pulse_t;
static pulse_t pulse[2];

#define PARK 30000u /* compare increment while idle or planning (15 ms) */
#define AHEAD 20      /* a compare is set at least this far ahead of the counter (10 µs) */
#define PULSE_COM(ch) ((ch) ? _BV(COM1B0) : _BV(COM1A0)) /* toggle OC1x on compare match */
#define PULSE_PIN(ch) ((ch) ? _BV(PIN_TENS2_PULSE) : _BV(PIN_TENS1_PULSE))

/* Pulse pin ch low now and given back to the port (interrupts off). While connected, the
 * compare unit's output latch is high between the rise match and the fall match: a
 * pending match (its flag still set) is one more toggle than the state says. A high latch
 * is toggled back low (force output compare) before the pin is disconnected, so the next
 * connection starts low. */
static inline void pulse_pin_off(uint8_t ch) {
  if (TCCR1A & PULSE_COM(ch)) {
    uint8_t pending = (TIFR1 & (ch ? _BV(OCF1B) : _BV(OCF1A))) != 0;
    if ((pulse[ch].state == P_FALL) != pending) TCCR1C = ch ? _BV(FOC1B) : _BV(FOC1A);
    TCCR1A &= (uint8_t)~PULSE_COM(ch);
  }
  if (ch) PORTB &= (uint8_t)~_BV(PIN_TENS2_PULSE);
  else PORTB &= (uint8_t)~_BV(PIN_TENS1_PULSE);
}

/* After the falling edge (interrupts enabled by the caller): plan the next pulse. */
static void pulse_plan(pulse_t *p) {
  mod_pulse_t pl;
  mod_tens_next_pulse(&p->train, &pl);
  uint32_t gap = pl.interval_us * 2u - p->width; /* from this fall to the next rise; >= 6 ms */
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    p->remaining = gap;
    p->width = (uint16_t)(pl.width_us * 2u);
    p->amp_level = pl.amp_level;
  }
}

/* The increment to the next compare match while waiting out a gap (or idle); the last
 * step of a gap arms the rise (the pin connected, unless an output cut holds it off). */
static uint16_t pulse_gap(pulse_t *p, uint8_t ch) {
  p->state = P_GAP;
  if (!p->on) { p->remaining = 0; return 20000; } /* idle: a look every 10 ms */
  if (p->remaining > PARK) { p->remaining -= PARK; return PARK; }
  uint16_t r = p->remaining < 40 ? 40 : (uint16_t)p->remaining;
  p->remaining = 0;
  p->state = P_RISE;
  if (!cut) TCCR1A |= PULSE_COM(ch);
  return r;
}

/* One channel's compare match (the hardware has just toggled a connected pin). */
static inline void pulse_edge(uint8_t ch, volatile uint16_t *reg) {
  pulse_t *p = &pulse[ch];
  uint16_t ocr = *reg;
  if (p->state == P_RISE) {
    p->state = P_FALL;
    *reg = (uint16_t)(ocr + p->width);
    /* this routine ran later than the width (it cannot at these latencies): the match set
     * above is behind the counter and would come a full timer turn (32 ms) later: end now */
    if ((uint16_t)(TCNT1 - ocr) >= p->width) pulse_pin_off(ch);
    return;
  }
  if (p->state == P_FALL) {
    TCCR1A &= (uint8_t)~PULSE_COM(ch); /* the pin is low: the port holds it between pulses */
    *reg = (uint16_t)(ocr + PARK);     /* no match of ours while planning */
    p->state = P_GAP;
    sei();
    pulse_plan(p);
    cli();
  }
  /* A match set behind the counter would come a full timer turn (32 ms) later: a routine
   * that was held off (another interrupt, a critical section) sets it just ahead instead.
   * Only a gap step or a rise waits the few µs; every increment is below half a turn. */
  uint16_t at = (uint16_t)(ocr + pulse_gap(p, ch));
  uint16_t now = TCNT1;
  if ((int16_t)(at - now) < AHEAD) at = (uint16_t)(now + AHEAD);
  *reg = at;
}

ISR(TIMER1_COMPA_vect) { pulse_edge(0, &OCR1A); }
ISR(TIMER1_COMPB_vect) { pulse_edge(1, &OCR1B); }

static uint8_t cfg_same(const mod_tens_cfg_t *a, const mod_tens_cfg_t *b) {
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  for (uint8_t i = 0; i < sizeof *a; i++) if (x[i] != y[i]) return 0;
  return 1;
}

/* Each tick: c = the channel's configuration while it is driven, NULL when off. */
static void pulse_config(uint8_t ch, const mod_tens_cfg_t *c) {
  pulse_t *p = &pulse[ch];
  if (!c) {
    if (!p->on) return;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { /* stop now, even mid-pulse */
      pulse_pin_off(ch);
      p->on = 0;
      p->state = P_GAP;
      p->remaining = 0;
    }
    return;
  }
  if (p->on && cfg_same(&p->cfg, c)) return;
  /* (re)start the train: its first pulse at the next compare match (within 10 ms idle, 15 ms in
   * a long gap); a pulse in flight ends at its own width and counts as the train's first */
  mod_tens_train_t t;
  mod_pulse_t first;
  mod_tens_train_reset(&t, c);
  mod_tens_next_pulse(&t, &first);
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    p->cfg = *c;
    p->train = t;
    if (p->state != P_FALL) {
      pulse_pin_off(ch); /* a rise armed for the old setting does not happen */
      p->width = (uint16_t)(first.width_us * 2u);
      p->amp_level = first.amp_level;
      p->state = P_GAP;
      p->remaining = 0;
    }
    p->on = 1;
  }
}

static uint16_t pulse_amp_level(uint8_t ch) {
  if (!pulse[ch].on || pulse[ch].cfg.mod_kind != MOD_TENS_MOD_AMPLITUDE) return MOD_LEVEL_FULL;
  uint16_t v;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { v = pulse[ch].on ? pulse[ch].amp_level : MOD_LEVEL_FULL; }
  return v;
}

/* ------------------------------------------------------------- ADC */
static volatile uint16_t adc[ADC_CHANNELS];
static uint8_t adc_ch;

static void adc_start(uint8_t ch) { ADMUX = (uint8_t)(_BV(REFS0) | ch); ADCSRA |= _BV(ADSC); }

static void adc_poll(void) {
  if (ADCSRA & _BV(ADSC)) return;
  adc[adc_ch] = ADC;
  adc_ch = (uint8_t)((adc_ch + 1) % ADC_CHANNELS);
  adc_start(adc_ch);
}

static void adc_init(void) {
  ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0); /* 125 kHz */
  DIDR0 = 0x1F;
  /* one blocking round so the first tick sees real inputs, not zeros (a zero pad reading is "hot") */
  for (uint8_t i = 0; i <= ADC_CHANNELS; i++) {
    adc_start(adc_ch);
    while (ADCSRA & _BV(ADSC)) {}
    adc[adc_ch] = ADC;
    adc_ch = (uint8_t)((adc_ch + 1) % ADC_CHANNELS);
  }
  adc_start(adc_ch);
}

/* The analog inputs, converted after the outputs of a tick are written (off the latency
 * path: the divisions cost ~200 µs); the stop pin is read at the start of every tick. */
static void read_inputs(void) {
  uint16_t a[ADC_CHANNELS];
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { for (uint8_t i = 0; i < ADC_CHANNELS; i++) a[i] = adc[i]; }
  inputs.pad_cx10 = mod_adc_to_cx10(a[ADC_PAD_NTC]);
  inputs.head_cx10 = mod_adc_to_cx10(a[ADC_HEAD_NTC]);
  inputs.tens_ohm[0] = mod_adc_to_ohm(a[ADC_TENS1_Z]);
  inputs.tens_ohm[1] = mod_adc_to_ohm(a[ADC_TENS2_Z]);
  inputs.coupled = a[ADC_COUPLING] > 512;
}

/* --------------------------------------------------------- outputs */
#if MOD_LIMIT_MAX_TENS_MA != 80 || MOD_LIMIT_MAX_US_WPER_CM2 != 3
#error "the PWM scaling below assumes 80 mA and 3 W/cm² full scale"
#endif
/* Counters instead of 32-bit modulo of the board ms (a 32-bit division is ~40 µs on the AVR). */
static uint8_t us_gate_phase, pad_phase;

/* The outputs of the tick just computed (for board ms `ms`), as register values for the tick
 * interrupt; applied here at once if that millisecond has already begun (the main loop fell
 * behind). The TENS pulse trains start and stop here, on the main loop's time. */
static void stage_outputs(uint32_t ms) {
  const mod_outputs_t *o = &board.out;
  stage_t st = {0};
  uint8_t us = (uint8_t)((uint16_t)(o->us_x100 * 83u) / 100u); /* x * 249 / 300, in 16 bits */
  st.ocr2b = us;
  st.com2 = us ? _BV(COM2B1) : 0;
  uint8_t on_ms = (uint8_t)((o->us_duty_pct + 5) / 10);
  if (o->us_duty_pct && !on_ms) on_ms = 1;
  if (us && us_gate_phase < on_ms) st.portd |= _BV(PIN_US_EN); /* the benchmarks' timing probe */
  if (++us_gate_phase >= US_GATE_PERIOD_MS) us_gate_phase = 0;
  for (uint8_t ch = 0; ch < 2; ch++) {
    uint16_t amp = o->tens_x10[ch];
    pulse_config(ch, amp && o->tens_rate_hz[ch] ? &board.tens_cfg[ch] : 0);
    uint16_t pwm = (uint16_t)(amp * 51u) / 160u; /* amp * 255 / 800, in 16 bits */
    /* amplitude modulation scales the set-point for the next pulse (set when it is planned,
     * so the filtered level has settled when the pulse fires); 0 disconnects (a true zero) */
    uint8_t v = (uint8_t)(((uint32_t)pwm * pulse_amp_level(ch)) >> 10);
    if (ch) { st.ocr0b = v; if (v) st.com0 |= _BV(COM0B1); }
    else { st.ocr0a = v; if (v) st.com0 |= _BV(COM0A1); }
  }
  uint8_t phase = pad_phase;
  if (++pad_phase >= PAD_PWM_WINDOW_MS) pad_phase = 0;
  if (phase < o->heater_pct) st.portb |= _BV(PIN_HEATER);
  if (phase < o->cooler_pct) st.portb |= _BV(PIN_COOLER);
  if (board.session) st.portb |= _BV(PIN_LED);
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    stage.ocr0a = st.ocr0a; stage.ocr0b = st.ocr0b; stage.com0 = st.com0;
    stage.ocr2b = st.ocr2b; stage.com2 = st.com2; stage.portd = st.portd; stage.portb = st.portb;
    stage_ms = ms;
    if ((int32_t)(tick_ms - ms) >= 0) { apply_stage(); stage_pending = 0; }
    else stage_pending = 1;
  }
}

static void io_init(void) {
  /* every output low = off before anything else */
  PORTB = 0;
  DDRB = _BV(PIN_HEATER) | _BV(PIN_TENS1_PULSE) | _BV(PIN_TENS2_PULSE) | _BV(PIN_COOLER) | _BV(PIN_LED);
  PORTD = _BV(PIN_STOP); /* pull-up on the stop input */
  DDRD = _BV(PIN_US_PWM) | _BV(PIN_US_EN) | _BV(PIN_TENS2_AMP) | _BV(PIN_TENS1_AMP);
  /* Timer0: fast PWM 8 bit, /64 (976 Hz), outputs disconnected until driven */
  TCCR0A = _BV(WGM01) | _BV(WGM00);
  TCCR0B = _BV(CS01) | _BV(CS00);
  /* Timer2: fast PWM, TOP = OCR2A = 249, /64: overflows at exactly 1 kHz = the board tick */
  OCR2A = 249;
  TCCR2A = _BV(WGM21) | _BV(WGM20);
  TCCR2B = _BV(WGM22) | _BV(CS22);
  TIMSK2 = _BV(TOIE2);
  /* Timer1: normal mode, /8 = 2 MHz; compare interrupts time the pulse edges */
  TCCR1A = 0;
  TCCR1B = _BV(CS11);
  OCR1A = 20000;
  OCR1B = 30000;
  TIMSK1 = _BV(OCIE1A) | _BV(OCIE1B);
  /* pin-change interrupt on PD2 (PCINT18), the stop input: the routine acts on a high level (stop) */
  PCMSK2 = _BV(PCINT18);
  PCICR = _BV(PCIE2);
}

int main(void) {
  MCUSR = 0;
  wdt_disable();
  io_init();
  adc_init();
  read_inputs();
  uart_init();
  mod_init(&board, uart_tx);
  wdt_enable(WDTO_120MS);
  sei();
  uint32_t core_ms = 0;
  for (;;) {
    wdt_reset();
    uint32_t now;
    ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { now = tick_ms; }
    /* every millisecond is ticked, even after a long pass, and the core runs one ahead:
     * tick now + 1 is computed now and its outputs staged for the interrupt that starts it */
    while (core_ms != now + 1) {
      core_ms++;
      uint8_t c = cut;
      inputs.stop = (PIND & _BV(PIN_STOP)) != 0 || (c & CUT_STOP); /* a press the interrupt caught counts */
      if (c & CUT_LEASE) mod_host_silent(&board);
      mod_tick(&board, core_ms, &inputs);
      /* a fast cut holds until the core has latched its cause (then the core drives zeros) */
      uint8_t clear = 0;
      if (board.board_faults & (1u << (MOD_FAULT_STOP_INPUT - 1))) clear |= CUT_STOP;
      if (board.board_faults & (1u << (MOD_FAULT_HOST_TIMEOUT - 1))) clear |= CUT_LEASE;
      /* no session (a BYE came in just as the watch fired): nothing is driven, no lease runs */
      if (!board.session) clear |= CUT_LEASE;
      /* staged first: the pulse trains of the zeros the core now drives stop before the cut lifts */
      stage_outputs(core_ms);
      ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
        cut &= (uint8_t)~clear;
        lease_watch_ms = board.session ? board.lease_ms : 0; /* the watch counts bytes, on its own */
      }
      read_inputs(); /* for the next tick */
    }
    while (rx_tail != rx_head) {
      uint8_t b = rx_buf[rx_tail];
      rx_tail = (uint8_t)((rx_tail + 1) & (RX_SIZE - 1));
      mod_rx_byte(&board, b);
    }
    adc_poll();
  }
}
