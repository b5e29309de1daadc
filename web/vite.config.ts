import { defineConfig } from 'vite';

// The UI is served by `hikeshi serve` under a strict Content-Security-Policy (no inline scripts or
// styles), so the build must emit only external files: no module-preload polyfill, CSS as files.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    target: 'es2022',
    sourcemap: false,
  },
  server: {
    // `npm run dev` proxies the API to a running `hikeshi serve` on 127.0.0.1:8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
