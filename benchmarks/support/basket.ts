// The five-line basket the in-process benchmarks price (kopecks, quantities in
// thousandths), with the demo seed's groups so promotions and exclusions
// (tobacco earns nothing) apply.
export const fiveLineBasket = [
  { sku: "4600000000031", group: "grocery", quantityMilli: 1000, priceMinor: 12_990, amountMinor: 12_990 },
  { sku: "4600000000048", group: "dairy", quantityMilli: 2000, priceMinor: 8_950, amountMinor: 17_900 },
  { sku: "4600000000055", group: "coffee", quantityMilli: 1000, priceMinor: 45_000, amountMinor: 45_000 },
  { sku: "4600000000062", group: "bakery", quantityMilli: 1000, priceMinor: 5_500, amountMinor: 5_500 },
  { sku: "4600000000079", group: "tobacco", quantityMilli: 1000, priceMinor: 22_000, amountMinor: 22_000 },
];
