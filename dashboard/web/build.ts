import fs from 'node:fs'
import path from 'node:path'
import { build } from 'esbuild'

// Bundle the dashboard's browser code with esbuild into dashboard/web/dist (no CDN: the page works
// offline on a hospital network). Runs on `npm install` (postinstall) and `npm run build:web`.

const here = import.meta.dirname
const dist = path.join(here, 'dist')
fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist, { recursive: true })
await build({
  entryPoints: [path.join(here, 'src', 'main.ts')],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: 'es2022',
  outfile: path.join(dist, 'app.js'),
  logLevel: 'warning',
})
for (const f of fs.readdirSync(path.join(here, 'public')))
  fs.copyFileSync(path.join(here, 'public', f), path.join(dist, f))
const uplotCss = path.join(here, '..', '..', 'node_modules', 'uplot', 'dist', 'uPlot.min.css')
if (fs.existsSync(uplotCss)) fs.copyFileSync(uplotCss, path.join(dist, 'uplot.css'))
process.stdout.write(`dashboard built in ${path.relative(process.cwd(), dist) || dist}\n`)
