/*
 * ATmega328P @ 16 MHz: pin map of the modality board (see firmware-host/README.md).
 * The simavr runner (simavr/runner.c) observes the same pins and registers.
 */
#ifndef MOD_HAL_H
#define MOD_HAL_H

/* UART0: PD0 RXD, PD1 TXD, 115200 8N1 (U2X, UBRR 16) */

/* Port D */
#define PIN_STOP      PD2 /* patient stop input, pull-up; HIGH = stop (normally-closed switch to GND) */
#define PIN_US_PWM    PD3 /* OC2B: ultrasound intensity PWM (Timer2, 1 kHz, 0..249) */
#define PIN_US_EN     PD4 /* ultrasound enable, gated by the duty cycle (10 ms period) */
#define PIN_TENS2_AMP PD5 /* OC0B: TENS ch2 amplitude PWM (Timer0, 976 Hz, 0..255 = 0..80 mA) */
#define PIN_TENS1_AMP PD6 /* OC0A: TENS ch1 amplitude PWM */

/* Port B */
#define PIN_HEATER    PB0 /* pad heater, time-proportional PWM (100 ms window, 1 % steps) */
#define PIN_TENS1_PULSE PB1 /* TENS ch1 pulse train, edges timed by Timer1 compare A (0.5 µs) */
#define PIN_TENS2_PULSE PB2 /* TENS ch2 pulse train, Timer1 compare B */
#define PIN_COOLER    PB4 /* pad cooler (Peltier), time-proportional PWM */
#define PIN_LED       PB5 /* session LED */

/* ADC (AVcc reference, 10 bit) */
#define ADC_PAD_NTC   0 /* PC0: pad thermistor, 10k NTC to GND, 10k pull-up */
#define ADC_TENS1_Z   1 /* PC1: electrode sense ch1, electrodes to GND, 10k reference */
#define ADC_TENS2_Z   2 /* PC2: electrode sense ch2 */
#define ADC_COUPLING  3 /* PC3: ultrasound head load sense, > 512 = coupled */
#define ADC_HEAD_NTC  4 /* PC4: ultrasound head thermistor */
#define ADC_CHANNELS  5

#define US_GATE_PERIOD_MS 10
#define PAD_PWM_WINDOW_MS 100

#endif
