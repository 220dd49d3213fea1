//! Accepting connections: one task accepts TCP while a connection permit is free, each TLS
//! handshake runs in a task of its own under a timeout, and finished connections reach axum
//! through a channel. A connection holds its permit until it closes, and is closed when it
//! sends nothing for the idle timeout.

use std::{
	future::Future,
	io,
	net::SocketAddr,
	pin::Pin,
	sync::Arc,
	task::{Context, Poll},
	time::Duration,
};

use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::{TcpListener, TcpStream},
	sync::{mpsc, OwnedSemaphorePermit, Semaphore},
	task::JoinHandle,
	time::{Instant, Sleep},
};
use tokio_rustls::{server::TlsStream, TlsAcceptor};
use tracing::debug;

use crate::Limits;

enum Stream {
	Plain(TcpStream),
	Tls(Box<TlsStream<TcpStream>>),
}

/// A client connection as axum serves it.
pub struct Conn {
	stream: Stream,
	idle: Pin<Box<Sleep>>,
	idle_timeout: Duration,
	_permit: OwnedSemaphorePermit,
}

impl Conn {
	fn new(stream: Stream, permit: OwnedSemaphorePermit, idle_timeout: Duration) -> Self {
		Conn {
			stream,
			idle: Box::pin(tokio::time::sleep(idle_timeout)),
			idle_timeout,
			_permit: permit,
		}
	}
}

impl AsyncRead for Conn {
	fn poll_read(
		mut self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> Poll<io::Result<()>> {
		let before = buf.filled().len();
		let this = &mut *self;
		let polled = match &mut this.stream {
			Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
			Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
		};
		match polled {
			Poll::Ready(Ok(())) => {
				if buf.filled().len() > before {
					let deadline = Instant::now() + this.idle_timeout;
					this.idle.as_mut().reset(deadline);
				}
				Poll::Ready(Ok(()))
			}
			Poll::Pending => match this.idle.as_mut().poll(cx) {
				Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
					io::ErrorKind::TimedOut,
					"the client sent nothing for too long",
				))),
				Poll::Pending => Poll::Pending,
			},
			other => other,
		}
	}
}

impl AsyncWrite for Conn {
	fn poll_write(
		mut self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		match &mut self.stream {
			Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
			Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
		}
	}

	fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		match &mut self.stream {
			Stream::Plain(s) => Pin::new(s).poll_flush(cx),
			Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
		}
	}

	fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		match &mut self.stream {
			Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
			Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
		}
	}

	fn poll_write_vectored(
		mut self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		bufs: &[io::IoSlice<'_>],
	) -> Poll<io::Result<usize>> {
		match &mut self.stream {
			Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
			Stream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
		}
	}

	fn is_write_vectored(&self) -> bool {
		match &self.stream {
			Stream::Plain(s) => s.is_write_vectored(),
			Stream::Tls(s) => s.is_write_vectored(),
		}
	}
}

/// Connections ready to serve.
pub struct Incoming {
	ready: mpsc::Receiver<(Conn, SocketAddr)>,
	local: SocketAddr,
}

impl Incoming {
	/// Starts accepting on `tcp`; the handle stops it.
	pub fn start(
		tcp: TcpListener,
		tls: Option<TlsAcceptor>,
		limits: Limits,
		local: SocketAddr,
	) -> (Incoming, JoinHandle<()>) {
		let (tx, ready) = mpsc::channel(64);
		let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
		let acceptor = tokio::spawn(accept(tcp, tls, limits, permits, tx));
		(Incoming { ready, local }, acceptor)
	}
}

async fn accept(
	tcp: TcpListener,
	tls: Option<TlsAcceptor>,
	limits: Limits,
	permits: Arc<Semaphore>,
	ready: mpsc::Sender<(Conn, SocketAddr)>,
) {
	loop {
		let Ok(permit) = permits.clone().acquire_owned().await else {
			return;
		};
		let (stream, peer) = match tcp.accept().await {
			Ok(accepted) => accepted,
			Err(e) => {
				// Out of file descriptors, most often: give the others time to close.
				debug!("accept: {e}");
				tokio::time::sleep(Duration::from_millis(50)).await;
				continue;
			}
		};
		let _ = stream.set_nodelay(true);
		let Some(tls) = tls.clone() else {
			let conn = Conn::new(Stream::Plain(stream), permit, limits.idle_timeout);
			if ready.send((conn, peer)).await.is_err() {
				return;
			}
			continue;
		};
		let ready = ready.clone();
		tokio::spawn(async move {
			match tokio::time::timeout(limits.handshake_timeout, tls.accept(stream)).await {
				Ok(Ok(stream)) => {
					let conn =
						Conn::new(Stream::Tls(Box::new(stream)), permit, limits.idle_timeout);
					let _ = ready.send((conn, peer)).await;
				}
				Ok(Err(e)) => debug!(%peer, "TLS handshake: {e}"),
				Err(_) => debug!(%peer, "TLS handshake timed out"),
			}
		});
	}
}

impl axum::serve::Listener for Incoming {
	type Io = Conn;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		match self.ready.recv().await {
			Some(conn) => conn,
			// The acceptor stopped: serve what is open, accept nothing more.
			None => std::future::pending().await,
		}
	}

	fn local_addr(&self) -> io::Result<Self::Addr> {
		Ok(self.local)
	}
}
