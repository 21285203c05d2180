// parse-prometheus-text-format ships no types; test/support/prometheus-text.ts types its result.
declare module 'parse-prometheus-text-format' {
  const parsePrometheusTextFormat: (text: string) => unknown;
  export default parsePrometheusTextFormat;
}
