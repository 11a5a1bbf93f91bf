import { defineConfig } from 'vite';

// The gateway serves both the built files and /api, so `npm run dev` forwards /api
// to a gateway on its default address. AILAB_GATEWAY overrides it.
const gateway = process.env.AILAB_GATEWAY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One eagerly loaded bundle (about 1 MB, a third of it gzipped, mostly ECharts):
    // every page is a click away on a reading station, and the gateway serves it with
    // a long cache lifetime.
    chunkSizeWarningLimit: 1500,
    rolldownOptions: {
      // react-router marks its modules "use client", which only matters to React
      // server components; this application renders in the browser alone.
      onwarn(warning, defaultHandler) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        defaultHandler(warning);
      },
    },
  },
  server: { host: '127.0.0.1', proxy: { '/api': gateway } },
  preview: { host: '127.0.0.1', proxy: { '/api': gateway } },
});
