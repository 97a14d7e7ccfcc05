export * from './spiffe.js';
