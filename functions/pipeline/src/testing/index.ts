export { type SeededVersion, type SeedOptions, seedUploadedVersion, versionState } from "./seed.js";
