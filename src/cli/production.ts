// Imported first by the entry point, before anything loads React: React picks its build when first required, and
// without NODE_ENV it runs the development one, which checks every render and records a performance.measure entry
// per component render (the TUI's RSS grew ~35 MiB a minute under churn, its CPU was half a core).
process.env.NODE_ENV ??= 'production';
