/* ADC readings to physical units. The same circuit models are in sim/firmware-runner.ts
 * (padCToAdc, ohmToAdc) so tests can drive the simulated ADC. */
#include "modality.h"

/* ADC of a 10 kΩ / B 3950 NTC under a 10 kΩ pull-up, at -20, -15, ... 100 °C:
 * adc = round(1023 * R / (R + 10k)), R = 10k * exp(3950 * (1/T - 1/298.15)). Falling. */
static const uint16_t NTC_ADC[] = {
  934, 907, 873, 834, 788, 738, 684, 627, 569, 512, 456, 403, 354,
  310, 270, 235, 204, 177, 153, 133, 115, 100, 87, 76, 67,
};
#define NTC_N (sizeof NTC_ADC / sizeof NTC_ADC[0])
#define NTC_T0_X10 (-200)
#define NTC_STEP_X10 50

int16_t mod_adc_to_cx10(uint16_t adc) {
  /* Open thermistor (adc high) reads very cold, a short reads very hot: both latch a fault. */
  if (adc >= NTC_ADC[0]) return NTC_T0_X10;
  for (uint8_t i = 1; i < NTC_N; i++) {
    if (adc >= NTC_ADC[i]) {
      uint16_t hi = NTC_ADC[i - 1], lo = NTC_ADC[i];
      int32_t frac = (int32_t)(hi - adc) * NTC_STEP_X10 * 2 / (hi - lo);
      return (int16_t)(NTC_T0_X10 + (int16_t)(i - 1) * NTC_STEP_X10 + (int16_t)((frac + 1) / 2));
    }
  }
  return (int16_t)(NTC_T0_X10 + (NTC_N - 1) * NTC_STEP_X10);
}

uint16_t mod_adc_to_ohm(uint16_t adc) {
  if (adc >= 1023) return MOD_OHM_OPEN;
  uint32_t r = (uint32_t)adc * 10000UL / (1023U - adc);
  return r >= MOD_OHM_OPEN ? MOD_OHM_OPEN : (uint16_t)r;
}
