/** @loom/e2e — placeholder entry point; see README.md. */
export {};
