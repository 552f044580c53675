// The playground page's entry: mounts the app (ui/app.tsx) into index.html.
import { render } from 'preact';
import { App } from './ui/app';
import './style.css';

render(<App />, document.getElementById('app')!);
