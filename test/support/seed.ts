export { seededRandom, testSeed } from '@sigflow/test-support';
