// Golden tests on the committed fixtures of HashiCorp memberlist's own output
// (test/fixtures/memberlist/golden.json, regenerated and re-checked by `npm run test:interop`).
import {
  defineGoldenSuite,
  loadCommittedGolden,
} from '../../../../test/fixtures/memberlist/golden-suite.js';

defineGoldenSuite(loadCommittedGolden());
